using CsCheck;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>
/// Random munmaps of a mapping made of several handles (segdev_unmap's whole, head, tail and hole cases in any
/// order): the handles left always cover exactly the pages still mapped, in order, each with its own cookie
/// reference, and the driver's unmap callbacks are told each page once.
/// </summary>
public sealed class PartialUnmapPropertyTests
{
    private static readonly long Page = SystemPage.Size;
    private const int Pages = 12;

    [Fact]
    public void HandlesCoverExactlyWhatIsStillMapped()
    {
        var unmap = Gen.Select(Gen.Int[0, Pages - 1], Gen.Int[1, Pages]);
        Gen.Select(Gen.Int[1, 4], unmap.Array[1, 12]).Sample((pagesPerHandle, unmaps) =>
        {
            using var t = new TestKernel();
            var driver = t.Load("cb", new ScriptedDriver("cb0") { Pages = Pages });
            driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
            {
                maplen = Math.Min(len, pagesPerHandle * Page);
                return DevmapUmemSetup(dhp, d.Dip, d.Callbacks, d.Cookie, off, maplen, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
                    ? Errno.None : Errno.ENXIO;
            };
            using var file = t.Kernel.Open("cb0", OpenFlags.Read, Creds.Root64);
            var mapping = file.Map(0, Pages * Page, Prot.Read, MapFlags.Shared);
            var mapped = new bool[Pages];
            Array.Fill(mapped, true);
            long told = 0;
            foreach (var (first, count) in unmaps)
            {
                int n = Math.Min(count, Pages - first);
                if (mapped.All(m => !m)) break;
                mapping.Unmap(first * Page, n * Page);
                for (int p = first; p < first + n; p++)
                {
                    if (mapped[p]) told += Page;
                    mapped[p] = false;
                }

                var handles = mapping.Handles;
                var covered = new bool[Pages];
                long end = -1;
                foreach (var h in handles)
                {
                    Assert.True(h.MappingOffset > end, "handles in order and apart");
                    Assert.True(h.Length > 0);
                    for (long o = h.MappingOffset; o < h.MappingOffset + h.Length; o += Page) covered[o / Page] = true;
                    Assert.Equal(h.MappingOffset, h.Offset); // device offset 0 maps mapping offset 0
                    Assert.Equal(h.Offset, h.KernelOffset);
                    end = h.MappingOffset + h.Length - 1;
                }
                Assert.Equal(mapped, covered);
                Assert.Equal(driver.Unmaps.Sum(u => u.Len), told);
                Assert.Equal(1 + handles.Count, driver.Cookie!.References); // the driver's and one per handle
            }
            mapping.Dispose();
            Assert.Equal(MappingState.Unmapped, mapping.State);
            Assert.Equal(Pages * Page, driver.Unmaps.Sum(u => u.Len));
            Assert.Equal(1, driver.Cookie!.References);
        }, iter: 300);
    }
}
