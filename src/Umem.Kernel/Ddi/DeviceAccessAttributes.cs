namespace Umem.Kernel.Ddi;

/// <summary>ddi_device_acc_attr(9S): device access attributes. Kernel memory ignores them; the type exists for the signature.</summary>
public sealed record DeviceAccessAttributes(int Version = 1, int EndianFlags = 0, int DataOrder = 0);
