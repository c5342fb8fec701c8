using System.Buffers.Binary;
using System.Globalization;
using CsCheck;
using Umem.TestDrivers;

namespace Umem.Tests.Model;

/// <summary>
/// The model test with a real child process among the clients (tests/Umem.TestApp, the client library): it opens,
/// maybe maps, maybe registers a buffer and has the driver lock it (short-term or LONGTERM), and dies by SIGKILL
/// between random steps of the in-process clients; the host must then hold exactly what the model says, and after
/// every client is gone, nothing.
/// </summary>
[Collection(nameof(ModelCollection))]
public sealed class ChildKillModelTests
{
    private static readonly Gen<Op[]> GenSteps = Gen.Select(Gen.Int[0, 15], Gen.Int[0, 2], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 7], Gen.Int[0, 7])
        .Select((k, client, a, b, c, d) => new Op((OpKind)(k % ((int)OpKind.Kill + 1)), client, a, b, c, d)).Array[0, 12];

    [Fact]
    public void ASigkilledChildLeavesNothingBehind()
    {
        ClientModel.Warm();
        using (var warm = ChildProcess.StartTestApp(null, "client")) // the runtime's child-process machinery, once
            Assert.Equal("bye", warm.Command("quit"));
        Gen.Select(GenSteps, Gen.Bool, Gen.Int[0, 2], GenSteps).Sample((before, map, lockKind, after) =>
        {
            var model = ClientModel.Start();
            try
            {
                for (int i = 0; i < ClientModel.Clients; i++) model.Run(new Op(OpKind.Open, i, 1, 0, 0, 0));
                Run(model, before, "before");
                using (var child = ChildProcess.StartTestApp(null, "client"))
                {
                    child.Ok($"open {model.NodePath} rw");
                    model.ExternalOpened();
                    if (map)
                    {
                        child.Ok($"map 0 {Environment.SystemPageSize} rw");
                        model.ExternalMapped();
                    }
                    if (lockKind > 0 && model.LockFits(1))
                    {
                        child.Ok($"register {Environment.SystemPageSize}");
                        var session = model.System.Devices.Sessions.Single(s => s.Process.Cred.Pid == child.Pid);
                        byte[] input = new byte[16];
                        BinaryPrimitives.WriteUInt64LittleEndian(input, session.Process.Buffers[0].UserAddress);
                        BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(8), (uint)Environment.SystemPageSize);
                        BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(12), lockKind == 2 ? 1u : 0u);
                        string answer = child.Ok($"ioctl {ModelDriver.IoctlLock} {Convert.ToHexString(input)} 0");
                        model.ExternalLocked(int.Parse(answer.Split(' ')[0], CultureInfo.InvariantCulture));
                    }
                    child.Kill();
                    child.WaitForExit();
                }
                model.ExternalKilled();
                model.AssertMatches("SIGKILL of the child");
                Run(model, after, "after");
                model.KillAll();
                model.AssertMatches("killing every client");
            }
            finally
            {
                model.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }, iter: 4, threads: 1, print: t => $"before: {string.Join(' ', t.Item1)}; child map={t.Item2} lock={t.Item3}; after: {string.Join(' ', t.Item4)}");
    }

    private static void Run(ClientModel model, Op[] steps, string when)
    {
        for (int i = 0; i < steps.Length; i++)
        {
            model.Run(steps[i]);
            model.AssertMatches($"{when} step {i} {steps[i]}");
        }
    }
}
