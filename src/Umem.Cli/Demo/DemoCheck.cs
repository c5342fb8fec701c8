namespace Umem.Cli.Demo;

/// <summary>One thing the demo verifies; the demo exits 0 only if every check passed.</summary>
internal sealed record DemoCheck(string Name, bool Passed, string Detail);
