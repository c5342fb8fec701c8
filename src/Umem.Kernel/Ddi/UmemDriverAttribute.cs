namespace Umem.Kernel.Ddi;

/// <summary>
/// Names the driver of a module assembly: <c>[assembly: UmemDriver(typeof(XxDriver), "xx")]</c>. Without it,
/// modload takes the assembly's one public non-abstract type deriving from <see cref="Driver"/>, named after the
/// assembly.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class UmemDriverAttribute(Type driverType, string name) : Attribute
{
    /// <summary>The type deriving from <see cref="Driver"/>, with a public parameterless constructor.</summary>
    public Type DriverType { get; } = driverType;

    /// <summary>The driver's name (ddi_driver_name; the module name).</summary>
    public string Name { get; } = name;

    /// <summary>How many instances to attach when the host's configuration does not say (default 1: instance 0).</summary>
    public int Instances { get; init; } = 1;
}
