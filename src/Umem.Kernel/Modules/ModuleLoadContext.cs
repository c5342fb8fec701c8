using System.Reflection;
using System.Runtime.Loader;
using Umem.Kernel.Ddi;

namespace Umem.Kernel.Modules;

/// <summary>
/// The collectible load context of one driver module. Umem.Kernel and Umem.Platform come from the host (the
/// default context), so a driver's <see cref="Driver"/>, <see cref="DevInfo"/> or <c>UmemCookie</c> are the host's
/// types; the driver's own dependencies load beside it and go when it unloads.
/// </summary>
internal sealed class ModuleLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> s_shared = new(StringComparer.OrdinalIgnoreCase)
    {
        typeof(ModuleLoadContext).Assembly.GetName().Name!,
        typeof(Umem.Platform.Errno).Assembly.GetName().Name!,
    };

    private readonly AssemblyDependencyResolver? _resolver;
    private readonly string _directory;

    internal ModuleLoadContext(string assemblyPath) : base($"umem module {Path.GetFileName(assemblyPath)}", isCollectible: true)
    {
        _directory = Path.GetDirectoryName(assemblyPath)!;
        try
        {
            _resolver = new AssemblyDependencyResolver(assemblyPath);
        }
        catch (InvalidOperationException)
        {
            _resolver = null; // no usable .deps.json: probe the directory instead
        }
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || s_shared.Contains(assemblyName.Name)) return null;
        string? path = _resolver?.ResolveAssemblyToPath(assemblyName);
        if (path is null)
        {
            string probe = Path.Combine(_directory, assemblyName.Name + ".dll");
            if (File.Exists(probe)) path = probe;
        }
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver?.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? 0 : LoadUnmanagedDllFromPath(path);
    }
}
