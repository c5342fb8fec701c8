using Umem.Kernel.Ddi;

namespace Umem.Kernel.Modules;

/// <summary>A minor node as modinfo lists it.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="Driver">The driver.</param>
/// <param name="Instance">The instance that created it.</param>
/// <param name="Dev">Its device number.</param>
/// <param name="SpecType">S_IFCHR or S_IFBLK.</param>
/// <param name="NodeType">Its node type.</param>
/// <param name="Access">Owner, group and mode.</param>
/// <param name="OpenFiles">Files open on it.</param>
/// <param name="Mappings">Live mappings of it.</param>
public sealed record NodeInfo(string Name, string Driver, int Instance, DevT Dev, SpecType SpecType, string NodeType,
    NodeAccess Access, int OpenFiles, int Mappings);
