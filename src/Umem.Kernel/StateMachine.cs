namespace Umem.Kernel;

/// <summary>
/// A lifetime as an explicit state machine: the current state and the transitions allowed from each state. An
/// illegal transition is a framework bug and throws, naming the object and both states. Not thread-safe by itself:
/// the owner calls it under its own lock, and keeps it in a field that is not readonly.
/// </summary>
/// <remarks>
/// A struct, and described by a static formatter of its owner rather than a closure: a host holds one per mapping,
/// and each object per mapping is one more for every full GC to trace (issue 13).
/// </remarks>
internal struct StateMachine<TState> where TState : struct, Enum
{
    private readonly IReadOnlyDictionary<TState, TState[]> _allowed;
    private readonly object _subject;
    private readonly Func<object, string> _describe;

    /// <summary>A machine whose errors name the object <paramref name="describe"/> returns.</summary>
    internal StateMachine(TState initial, IReadOnlyDictionary<TState, TState[]> allowed, Func<string> describe)
        : this(initial, allowed, describe, static d => ((Func<string>)d)())
    {
    }

    /// <summary>
    /// A machine whose errors name <paramref name="subject"/> as <paramref name="describe"/> formats it (pass a
    /// static lambda: it is then one shared delegate, not one per owner).
    /// </summary>
    internal StateMachine(TState initial, IReadOnlyDictionary<TState, TState[]> allowed, object subject, Func<object, string> describe)
    {
        State = initial;
        _allowed = allowed;
        _subject = subject;
        _describe = describe;
    }

    internal TState State { get; private set; }

    internal readonly bool CanMoveTo(TState next) =>
        _allowed.TryGetValue(State, out var targets) && Array.IndexOf(targets, next) >= 0;

    /// <summary>Moves to <paramref name="next"/>; throws on a transition the table does not allow.</summary>
    internal void MoveTo(TState next)
    {
        if (!CanMoveTo(next))
            throw new InvalidOperationException($"{_describe(_subject)}: illegal state transition {State} -> {next}");
        State = next;
    }
}
