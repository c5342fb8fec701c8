using CsCheck;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Modules;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>ptob/btop/btopr, makedevice/getmajor/getminor, ddi_model_convert_from, ddi_mmap_get_model.</summary>
public sealed class SunddiTests
{
    [Fact]
    public void PageConversionsUseTheSystemPageSize()
    {
        long page = SystemPage.Size;
        Assert.Equal(page, Ptob(1));
        Assert.Equal(2 * page, Ptob(2));
        Assert.Equal(0, Btop(page - 1));
        Assert.Equal(1, Btop(page));
        Assert.Equal(1, Btopr(1));
        Assert.Equal(1, Btopr(page));
        Assert.Equal(2, Btopr(page + 1));
        Assert.Equal(0, Btopr(0));
    }

    [Fact]
    public void BtopRoundsDownAndBtoprRoundsUp() =>
        Gen.Long[0, 1L << 50].Sample(bytes =>
        {
            long down = Btop(bytes), up = Btopr(bytes);
            return Ptob(down) <= bytes && bytes - Ptob(down) < SystemPage.Size
                && Ptob(up) >= bytes && Ptob(up) - bytes < SystemPage.Size
                && (up - down) == (bytes % SystemPage.Size == 0 ? 0 : 1);
        });

    [Fact]
    public void MakeDeviceRoundTrips() =>
        Gen.Select(Gen.UInt, Gen.UInt).Sample((major, minor) =>
        {
            DevT dev = MakeDevice(major, minor);
            return GetMajor(dev) == major && GetMinor(dev) == minor && dev.Value == ((ulong)major << 32 | minor);
        });

    [Fact]
    public void ModelValuesAreTheDdis()
    {
        Assert.Equal(0x00100000, (int)DataModel.ILP32);
        Assert.Equal(0x00200000, (int)DataModel.LP64);
        Assert.Equal(0, (int)DataModel.None);
    }

    [Fact]
    public void ModelConvertFromKeepsIlp32AndMapsNativeToNone()
    {
        Assert.Equal(DataModel.ILP32, ModelConvertFrom(DataModel.ILP32));
        Assert.Equal(DataModel.None, ModelConvertFrom(DataModel.LP64));
        Assert.Equal(DataModel.None, ModelConvertFrom(DataModel.None));
        // Bits outside DDI_MODEL_MASK are dropped.
        Assert.Equal(DataModel.ILP32, ModelConvertFrom((DataModel)(0x00100000 | 0x7)));
    }

    [Fact]
    public void MmapGetModelOutsideAMappingRequestThrows()
    {
        var e = Assert.Throws<InvalidOperationException>(() => MmapGetModel());
        Assert.Contains("ddi_mmap_get_model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenModeConvertsAsOpen2Does()
    {
        Assert.Equal(OpenFlags.Read, OpenFlagsExtensions.FromOpenMode(0));
        Assert.Equal(OpenFlags.Write, OpenFlagsExtensions.FromOpenMode(1));
        Assert.Equal(OpenFlags.Read | OpenFlags.Write, OpenFlagsExtensions.FromOpenMode(2));
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => OpenFlagsExtensions.FromOpenMode(3)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => OpenFlagsExtensions.FromOpenMode(0x40)).Errno);
    }

    [Fact]
    public void ProtValuesAreTheDdis()
    {
        Assert.Equal(1, (int)Prot.Read);
        Assert.Equal(2, (int)Prot.Write);
        Assert.Equal(4, (int)Prot.Exec);
        Assert.Equal(8, (int)Prot.User);
        Assert.Equal(0xF, (int)Prot.All);
        Assert.Equal("PROT_READ|PROT_USER", (Prot.Read | Prot.User).Format());
        Assert.Equal("r-x", (Prot.Read | Prot.Exec).ToLetters());
    }
}

/// <summary>ddi_soft_state(9F) counterparts.</summary>
public sealed class SoftStateTests
{
    private sealed class Item
    {
        public int Value { get; set; }
    }

    [Fact]
    public void ZAllocGetFreeLifecycle()
    {
        var state = new SoftState<Item>(1);
        Assert.Null(state.Get(0));
        Assert.Equal(DdiResult.Success, state.ZAlloc(0));
        var item = state.Get(0);
        Assert.NotNull(item);
        Assert.Equal(0, item.Value); // zeroed: a fresh object
        item.Value = 7;
        Assert.Same(item, state.Get(0));
        Assert.Same(item, state.Get(0u));

        Assert.Equal(DdiResult.Failure, state.ZAlloc(0)); // already allocated
        Assert.Equal(DdiResult.Failure, state.ZAlloc(-1)); // negative item
        Assert.Null(state.Get(-1));
        Assert.Null(state.Get(uint.MaxValue));

        state.Free(0);
        Assert.Null(state.Get(0));
        state.Free(0); // freeing an unallocated item is harmless
        Assert.Equal(DdiResult.Success, state.ZAlloc(0));
        Assert.Equal(0, state.Get(0)!.Value); // a new, zeroed item
    }

    [Fact]
    public void GrowsPastTheInitialHint()
    {
        var state = new SoftState<Item>(1);
        Assert.Equal(DdiResult.Success, state.ZAlloc(100));
        Assert.Equal(DdiResult.Success, state.ZAlloc(5));
        Assert.NotNull(state.Get(100));
        Assert.NotNull(state.Get(5));
        Assert.Null(state.Get(6));
        Assert.Equal(2, state.Count);
    }

    [Fact]
    public void FiniReleasesEverythingAndForbidsFurtherUse()
    {
        var state = new SoftState<Item>(4);
        state.ZAlloc(0);
        state.ZAlloc(3);
        state.Fini();
        Assert.Throws<InvalidOperationException>(() => state.Get(0));
        Assert.Throws<InvalidOperationException>(() => state.ZAlloc(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftState<Item>(-1));
    }

    [Fact]
    public void ConcurrentZAllocGivesEachItemOnce()
    {
        var state = new SoftState<Item>(1);
        int successes = 0;
        Parallel.For(0, 400, i =>
        {
            if (state.ZAlloc(i % 100) == DdiResult.Success) Interlocked.Increment(ref successes);
        });
        Assert.Equal(100, successes);
        Assert.Equal(100, state.Count);
    }
}

/// <summary>The lifetimes' transition guard.</summary>
public sealed class StateMachineTests
{
    [Fact]
    public void IllegalTransitionsThrowNamingBothStates()
    {
        var sm = new StateMachine<ModuleState>(ModuleState.Loaded, new Dictionary<ModuleState, ModuleState[]>
        {
            [ModuleState.Loaded] = [ModuleState.Attached],
        }, () => "module t");
        Assert.True(sm.CanMoveTo(ModuleState.Attached));
        Assert.False(sm.CanMoveTo(ModuleState.Detaching));
        var e = Assert.Throws<InvalidOperationException>(() => sm.MoveTo(ModuleState.Unloaded));
        Assert.Contains("Loaded -> Unloaded", e.Message, StringComparison.Ordinal);
        sm.MoveTo(ModuleState.Attached);
        Assert.Throws<InvalidOperationException>(() => sm.MoveTo(ModuleState.Loaded)); // nothing leaves Attached here
    }
}
