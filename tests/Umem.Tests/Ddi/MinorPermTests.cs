using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.TestDrivers;

namespace Umem.Tests.Ddi;

/// <summary>minor_perm(4) lines and the policy that gives each new node its owner and mode.</summary>
public sealed class MinorPermTests
{
    private static readonly UserDatabase s_users = UserDatabase.Parse(
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        "root:x:0:\nvideo:x:44:alice\n");

    private static UnixFileMode Mode(string octal) => (UnixFileMode)Convert.ToInt32(octal, 8);

    [Fact]
    public void LinesNameDriverNodeModeOwnerAndGroup()
    {
        var table = MinorPermTable.Parse("""
            # driver:node mode owner group
            xx:* 0666 root root
            xx:xx1 0600 alice video   # exact names win over patterns
            ring:ring* 640 1000
            lockmem:lockmem0 0660 - video
            """, "minor_perm", s_users);
        Assert.Equal(new MinorPermEntry("xx", "*", Mode("666"), 0, 0), table.Find("xx", "xx0"));
        Assert.Equal(new MinorPermEntry("xx", "xx1", Mode("600"), 1000, 44), table.Find("xx", "xx1"));
        Assert.Equal(new MinorPermEntry("ring", "ring*", Mode("640"), 1000, null), table.Find("ring", "ring7"));
        Assert.Equal(new MinorPermEntry("lockmem", "lockmem0", Mode("660"), null, 44), table.Find("lockmem", "lockmem0"));
        Assert.Null(table.Find("ring", "xring"));
        Assert.Null(table.Find("other", "xx0"));
    }

    [Theory]
    [InlineData("xx:* 0666 root root extra", "line", "got 5 field(s)")]
    [InlineData("xx 0666", "name", "'xx' is not driver:minor")]
    [InlineData(":xx0 0666", "name", "is not driver:minor")]
    [InlineData("xx:a/b 0666", "name", "is not driver:minor")]
    [InlineData("xx:* 0888", "mode", "'0888' is not octal permission bits")]
    [InlineData("xx:* 01777", "mode", "is not octal permission bits")]
    [InlineData("xx:* rw", "mode", "'rw' is not octal")]
    [InlineData("xx:* 0666 nosuchuser", "owner", "no user 'nosuchuser'")]
    [InlineData("xx:* 0666 root nosuchgroup", "group", "no group 'nosuchgroup'")]
    public void ABadLineIsRefusedWholeNamingLineAndField(string line, string field, string message)
    {
        var e = Assert.Throws<ConfigFileException>(() => MinorPermTable.Parse($"xx:xx0 0600\n{line}\n", "f", s_users));
        var error = Assert.Single(e.Errors);
        Assert.Equal(("f", 2, field), (error.File, error.Line, error.Field));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APrivilegedHostKeepsTheDriversOwnerAnUnprivilegedOneTakesItsPlace()
    {
        var asked = new NodeAccess(0, 0, Mode("666"));
        var table = MinorPermTable.Parse("xx:xx1 0600\n", "f", s_users);
        var privileged = new NodePermissionPolicy(table, 0, 0, OwnsDriverNodes: false);
        Assert.Equal(asked, privileged.Resolve("xx", "xx0", asked));
        Assert.Equal(new NodeAccess(0, 0, Mode("600")), privileged.Resolve("xx", "xx1", asked));

        var user = new NodePermissionPolicy(table, 1000, 1000, OwnsDriverNodes: true);
        Assert.Equal(new NodeAccess(1000, 1000, Mode("666")), user.Resolve("xx", "xx0", asked)); // the driver's mode, the host's uid
        Assert.Equal(new NodeAccess(1000, 1000, Mode("600")), user.Resolve("xx", "xx1", asked));
    }

    [Fact]
    public void TheKernelGivesANewNodeWhatThePolicySays()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = "umem-test", CacheBytes = 0 });
        var policy = new NodePermissionPolicy(MinorPermTable.Parse("regions:* 0640 alice video\n", "f", s_users), 0, 0, false);
        using var kernel = new UmemKernel(allocator, policy);
        kernel.ModLoad("regions", () => new RegionsDriver());
        var node = Assert.Single(kernel.Nodes);
        Assert.Equal(new NodeAccess(1000, 44, Mode("640")), node.Access); // the driver asked for root 0666
    }
}
