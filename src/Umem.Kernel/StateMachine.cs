namespace Umem.Kernel;

/// <summary>
/// A lifetime as an explicit state machine: the current state and the transitions allowed from each state. An
/// illegal transition is a framework bug and throws, naming the object and both states. Not thread-safe by itself:
/// the owner calls it under its own lock.
/// </summary>
internal sealed class StateMachine<TState> where TState : struct, Enum
{
    private readonly IReadOnlyDictionary<TState, TState[]> _allowed;
    private readonly Func<string> _describe;

    internal StateMachine(TState initial, IReadOnlyDictionary<TState, TState[]> allowed, Func<string> describe)
    {
        State = initial;
        _allowed = allowed;
        _describe = describe;
    }

    internal TState State { get; private set; }

    internal bool CanMoveTo(TState next) =>
        _allowed.TryGetValue(State, out var targets) && Array.IndexOf(targets, next) >= 0;

    /// <summary>Moves to <paramref name="next"/>; throws on a transition the table does not allow.</summary>
    internal void MoveTo(TState next)
    {
        if (!CanMoveTo(next))
            throw new InvalidOperationException($"{_describe()}: illegal state transition {State} -> {next}");
        State = next;
    }
}
