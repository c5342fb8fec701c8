using System.Collections.Immutable;

namespace Umem.Kernel.ResourceControls;

/// <summary>One line of a project file (project(5)): <c>projname:projid:comment:user-list:group-list:attributes</c>.</summary>
/// <param name="Name">The project name (<c>user.root</c>, <c>default</c>, …).</param>
/// <param name="Id">The project id.</param>
/// <param name="Comment">Free text.</param>
/// <param name="Users">The user list: names, <c>*</c>, <c>!name</c>, <c>!*</c>.</param>
/// <param name="Groups">The group list, same syntax.</param>
/// <param name="Attributes">Every attribute as written (name → value, "" for a bare name), in file order.</param>
/// <param name="LockedMemoryValues">The parsed privileged values of project.max-locked-memory.</param>
/// <param name="Line">The line it came from.</param>
public sealed record ProjectEntry(
    string Name,
    int Id,
    string Comment,
    ImmutableArray<string> Users,
    ImmutableArray<string> Groups,
    ImmutableArray<KeyValuePair<string, string>> Attributes,
    ImmutableArray<RctlValue> LockedMemoryValues,
    int Line)
{
    /// <summary>
    /// ismember() of libproject: whether <paramref name="user"/> (primary group <paramref name="primaryGroup"/>,
    /// member of <paramref name="supplementaryGroups"/>) may join. A user's default projects (user.NAME,
    /// group.GROUP, default) admit unless the lists exclude with <c>!name</c> or <c>!*</c>; any other project
    /// admits only users it lists, by name, by <c>*</c>, or through one of their groups.
    /// </summary>
    public bool IsMember(string user, string? primaryGroup, IReadOnlyCollection<string> supplementaryGroups, bool isDefaultProject)
    {
        bool member = isDefaultProject;
        foreach (string u in Users)
        {
            if (u == "!*" || (u.StartsWith('!') && u.AsSpan(1).SequenceEqual(user)))
                return false;
            if (u == "*" || u == user)
                member = true;
        }
        foreach (string g in Groups)
        {
            if (primaryGroup is not null)
            {
                if (g == "!*" || (g.StartsWith('!') && g.AsSpan(1).SequenceEqual(primaryGroup)))
                    return false;
                if (g == "*" || g == primaryGroup)
                    member = true;
            }
            if (supplementaryGroups.Contains(g))
                member = true;
        }
        return member;
    }
}
