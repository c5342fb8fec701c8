namespace Umem.Kernel.Devices;

/// <summary>The lifetime of a <see cref="DeviceFile"/>.</summary>
public enum FileState
{
    /// <summary>Open, nothing mapped.</summary>
    Open,

    /// <summary>Open with live mappings.</summary>
    Mapped,

    /// <summary>Closed by its owner while mappings (or calls) remain: close(9E) waits for them.</summary>
    Closing,

    /// <summary>close(9E) has run; the file is gone.</summary>
    Closed,
}
