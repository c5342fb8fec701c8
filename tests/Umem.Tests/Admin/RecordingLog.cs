using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Umem.Tests.Admin;

/// <summary>A logger factory that keeps every line with its event id, for tests of what the host logs.</summary>
internal sealed class RecordingLog : ILoggerFactory, ILogger
{
    internal ConcurrentQueue<(int Id, LogLevel Level, string Text)> Lines { get; } = new();

    /// <summary>The lines logged with event id <paramref name="id"/>.</summary>
    internal List<string> With(int id) => [.. Lines.Where(l => l.Id == id).Select(l => l.Text)];

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((eventId.Id, logLevel, formatter(state, exception)));

    public void Dispose()
    {
    }
}
