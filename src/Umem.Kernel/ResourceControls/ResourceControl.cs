namespace Umem.Kernel.ResourceControls;

/// <summary>
/// A resource control of one project or zone: its values and its usage. Charging is lock-free: a
/// compare-and-swap on the usage word admits a charge only if usage + increment stays within the cached
/// threshold, so no interleaving of chargers ever takes the usage past the threshold in force.
/// </summary>
public sealed class ResourceControl
{
    private readonly object _setLock = new();
#pragma warning disable IDE0044 // mutated through refs (Interlocked), which the analyzer does not see
    private RctlCounters _counters;
#pragma warning restore IDE0044
    private RctlValue[] _values;

    internal ResourceControl(ResourceControlDefinition definition, IEnumerable<RctlValue> privilegedValues)
    {
        Definition = definition;
        _values = Normalize(privilegedValues);
        _counters.Limit = LowestThreshold(_values);
    }

    public ResourceControlDefinition Definition { get; }

    /// <summary>Bytes charged now.</summary>
    public ulong Usage => Volatile.Read(ref _counters.Usage);

    /// <summary>The highest usage this control has reached.</summary>
    public ulong PeakUsage => Volatile.Read(ref _counters.Peak);

    /// <summary>The threshold in force: the lowest value (all values deny); UINT64_MAX when unlimited.</summary>
    public ulong Limit => Volatile.Read(ref _counters.Limit);

    /// <summary>True when only the system value (UINT64_MAX) is in force.</summary>
    public bool IsUnlimited => Limit == ulong.MaxValue;

    /// <summary>The privileged values in ascending order, then the system value, as prctl lists them.</summary>
    public IReadOnlyList<RctlValue> Values
    {
        get
        {
            var v = Volatile.Read(ref _values);
            return [.. v, RctlValue.SystemMaximum];
        }
    }

    /// <summary>The privileged values only.</summary>
    public IReadOnlyList<RctlValue> PrivilegedValues => Volatile.Read(ref _values);

    /// <summary>
    /// Adds <paramref name="increment"/> to the usage if the result stays within the threshold; otherwise
    /// returns the result of the test without changing anything (rctl_incr_locked_mem's per-entity step).
    /// </summary>
    internal RctlTest TryCharge(ulong increment)
    {
        ref ulong usage = ref _counters.Usage;
        ulong used = Volatile.Read(ref usage);
        while (true)
        {
            ulong next = used + increment;
            if (next < used) return RctlTest.Overflow;
            if (next > Volatile.Read(ref _counters.Limit)) return RctlTest.Deny;
            ulong seen = Interlocked.CompareExchange(ref usage, next, used);
            if (seen == used)
            {
                RecordPeak(next);
                return RctlTest.Allow;
            }
            used = seen;
        }
    }

    /// <summary>Returns a charge. More than was charged is a bug in the caller, never silently absorbed.</summary>
    internal void Uncharge(ulong decrement)
    {
        ulong before = Interlocked.Add(ref _counters.Usage, unchecked(0UL - decrement)) + decrement;
        if (before < decrement)
        {
            Interlocked.Add(ref _counters.Usage, decrement);
            throw new InvalidOperationException(
                $"{Definition.Name}: uncharging {decrement} bytes but only {before} are charged");
        }
    }

    /// <summary>The values whose thresholds <paramref name="wouldBe"/> exceeds, lowest first.</summary>
    internal IEnumerable<RctlValue> Exceeded(ulong wouldBe) =>
        Volatile.Read(ref _values).Where(v => wouldBe > v.Value);

    /// <summary>Replaces every privileged value (a reload of the project file, or prctl).</summary>
    internal void SetPrivilegedValues(IEnumerable<RctlValue> values)
    {
        var normalized = Normalize(values);
        lock (_setLock)
        {
            Volatile.Write(ref _values, normalized);
            // Lowering the threshold below the usage leaves existing charges alone; new charges are denied.
            Volatile.Write(ref _counters.Limit, LowestThreshold(normalized));
        }
    }

    /// <summary>Runs <paramref name="update"/> on the privileged values atomically with respect to other setters.</summary>
    internal void UpdatePrivilegedValues(Func<IReadOnlyList<RctlValue>, IEnumerable<RctlValue>> update)
    {
        lock (_setLock)
        {
            var normalized = Normalize(update(_values));
            Volatile.Write(ref _values, normalized);
            Volatile.Write(ref _counters.Limit, LowestThreshold(normalized));
        }
    }

    private void RecordPeak(ulong value)
    {
        ulong peak = Volatile.Read(ref _counters.Peak);
        while (value > peak)
        {
            ulong seen = Interlocked.CompareExchange(ref _counters.Peak, value, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    private RctlValue[] Normalize(IEnumerable<RctlValue> values)
    {
        var list = values.ToList();
        foreach (var v in list)
        {
            if (v.Privilege != RctlPrivilege.Privileged)
                throw new ArgumentException(
                    $"{Definition.Name}: only privileged values can be set ({v.Privilege.ToString().ToLowerInvariant()} given)", nameof(values));
        }
        return [.. list.OrderBy(v => v.Value)];
    }

    private static ulong LowestThreshold(RctlValue[] values) =>
        values.Length == 0 ? ulong.MaxValue : values[0].Value;
}

/// <summary>The result of testing a charge against one control.</summary>
internal enum RctlTest
{
    Allow,
    Deny,
    Overflow,
}
