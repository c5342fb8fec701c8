using System.Text;
using Umem.Platform;
using Umem.Protocol;
using Umem.TestDrivers;

namespace Umem.Fuzz;

/// <summary>Valid inputs of each target to start from (AFL's input directory, the random run's corpus).</summary>
public static class Seeds
{
    public static IReadOnlyList<byte[]> For(string target) => target switch
    {
        "protocol" => Requests(),
        // Mode byte (docs in HostTarget) then the message: every request type after each set-up.
        "host" => [.. from mode in (byte[])[0, 1, 3, 7, 11, 15, 19, 35, 43] from r in Requests() select (byte[])[mode, .. r]],
        "project" => [.. ProjectTexts.Select(Encoding.UTF8.GetBytes)],
        "zones" => [.. ZonesTexts.Select(Encoding.UTF8.GetBytes)],
        _ => throw new ArgumentException($"no target '{target}' (protocol, host, project, zones)", nameof(target)),
    };

    private static List<byte[]> Requests()
    {
        long page = SystemPage.Size;
        var buffer = new byte[Wire.MaxMessage];
        var list = new List<byte[]>();
        void Add(int length) => list.Add(buffer[..length]);
        Add(new HelloRequest(Wire.Version, Wire.Version).Write(buffer, 7));
        Add(new OpenRequest(2).Write(buffer, 8));
        Add(new IdRequest(MessageType.Close, 1).Write(buffer, 9));
        Add(new MmapRequest(1, 0, (ulong)page, 3, Wire.MapShared).Write(buffer, 10));
        Add(new MunmapRequest(1, 0, (ulong)page).Write(buffer, 11));
        Add(new MunmapRequest(1, 0, (ulong)page).Write(buffer, 12, noReply: true));
        Add(new IoctlRequest(1, TestDeviceDriver.IoctlEcho, 16, 4).Write(buffer, 13, [1, 2, 3, 4]));
        Add(new IoctlRequest(1, TestDeviceDriver.IoctlBufferFill, 0, 13).Write(buffer, 14, [0, 0, 0, 0, 0, 0x70, 0, 0, 0, 16, 0, 0, 7]));
        Add(new RegisterRequest(0x7000_0000_0000, (ulong)page, 0).Write(buffer, 15));
        Add(new IdRequest(MessageType.Unregister, 1).Write(buffer, 16));
        Add(new IoRequest(MessageType.Read, 1, 0, 16, 0).Write(buffer, 17));                      // version 2
        Add(new IoRequest(MessageType.Write, 1, 8, 4, IoRequest.AtOffset).Write(buffer, 18, [1, 2, 3, 4]));
        Add(new IdRequest(MessageType.DupPrepare, 1).Write(buffer, 19));                            // version 3
        Add(new InheritRequest(1, new InheritToken(1, 2)).Write(buffer, 20));
        Add(new PollRequest(1, 0x0005, PollRequest.Arm).Write(buffer, 19));                          // version 3
        Add(new PollRequest(1, 0x0001, PollRequest.Arm | PollRequest.EventNow).Write(buffer, 20));
        return list;
    }

    private static readonly string[] ProjectTexts =
    [
        "system:0::::\nuser.root:1::::\nnoproject:2::::\ndefault:3::::\ngroup.staff:10::::\n",
        "# comment\nuser.root:1:root's:root:root:project.max-locked-memory=(privileged,1073741824,deny)\n",
        "lab:100:a lab:alice,bob,!carol:staff,!*:project.max-locked-memory=(privileged,1G,deny,signal=SIGTERM);other.attr=x\n",
        "p:5::*:*:project.max-locked-memory=(priv,100M,deny),(privileged,2G,deny,signal=KILL)\n",
    ];

    private static readonly string[] ZonesTexts =
    [
        "global:0::\n",
        "global:0::zone.max-locked-memory=(privileged,4G,deny)\nweb:1:pidns=4026531836,cgroup=/system.slice/web.service:zone.max-locked-memory=(privileged,1G,deny)\n",
        "# zones\nbatch:2:cgroup=/batch:\n",
    ];
}
