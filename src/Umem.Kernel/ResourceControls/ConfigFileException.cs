namespace Umem.Kernel.ResourceControls;

/// <summary>One problem found in a configuration file: where it is and what is wrong.</summary>
/// <param name="File">The file's path as given.</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Field">The field's name (<c>projid</c>, <c>attributes</c>, …).</param>
/// <param name="Message">What is wrong.</param>
public sealed record ConfigFileError(string File, int Line, string Field, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Field}: {Message}";
}

/// <summary>
/// A project or zones file was refused. Nothing of it was applied; <see cref="Errors"/> lists every problem
/// found, each naming the file, line and field.
/// </summary>
public sealed class ConfigFileException : FormatException
{
    public ConfigFileException(IReadOnlyList<ConfigFileError> errors)
        : base(Format(errors)) => Errors = errors;

    public ConfigFileException() : this([]) { }

    public ConfigFileException(string message) : base(message) => Errors = [];

    public ConfigFileException(string message, Exception innerException) : base(message, innerException) => Errors = [];

    public IReadOnlyList<ConfigFileError> Errors { get; }

    private static string Format(IReadOnlyList<ConfigFileError> errors) => errors.Count switch
    {
        0 => "invalid configuration file",
        1 => $"{errors[0]} (file refused)",
        _ => $"{errors[0].File}: {errors.Count} errors (file refused):{Environment.NewLine}  " +
             string.Join(Environment.NewLine + "  ", errors),
    };
}
