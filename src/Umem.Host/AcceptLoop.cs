using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Umem.Host;

/// <summary>The accept loop of a listening socket (a node's, the admin socket): until the socket is closed.</summary>
internal static class AcceptLoop
{
    /// <summary>Hands every accepted connection to <paramref name="accepted"/>; ends when <paramref name="listening"/> is disposed.</summary>
    internal static async Task RunAsync(Socket listening, string name, ILogger log, Action<Socket> accepted)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listening.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.Shutdown)
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: back off instead of spinning; the client waits in the backlog.
                Log.AcceptFailed(log, name, e.Message);
                await Task.Delay(100).ConfigureAwait(false);
                continue;
            }
            accepted(client);
        }
    }
}
