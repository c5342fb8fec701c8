using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    internal const int CAP_CHOWN = 0;
    internal const int CAP_IPC_LOCK = 14;

    /// <summary>struct __user_cap_header_struct (linux/capability.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct __user_cap_header_struct
    {
        public uint version;
        public int pid;
    }

    /// <summary>struct __user_cap_data_struct (linux/capability.h); version 3 takes two of them (capabilities 0-31, 32-63).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct __user_cap_data_struct
    {
        public uint effective;
        public uint permitted;
        public uint inheritable;
    }

    // Capabilities belong to a thread, not a process: capset with pid 0 changes the calling thread only.
    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int capget(__user_cap_header_struct* hdrp, __user_cap_data_struct* datap);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int capset(__user_cap_header_struct* hdrp, __user_cap_data_struct* datap);
}
