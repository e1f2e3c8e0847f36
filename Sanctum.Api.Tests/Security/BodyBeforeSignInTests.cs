using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.Security;

/// <summary>
/// Issue 23 item 1: no request body is read before the caller is authenticated and authorized for the endpoint, and
/// the backup upload's large limit applies only after that. On a real Kestrel port; a meter put in front of the whole
/// pipeline counts the bytes the server read from each body before it started to answer. The client sends
/// <c>Expect: 100-continue</c> and waits for the server to ask for the body (Kestrel does at the first read), so a
/// body nobody reads is never sent at all.
/// </summary>
public class BodyBeforeSignInTests
{
    private const long Large = 64L * 1024 * 1024;

    private SanctumApplication _app = null!;
    private Uri _address = null!;
    private WebApplicationFactory<Program> _server = null!;
    private readonly BodyMeter _meter = new();

    [OneTimeSetUp]
    public void Start()
    {
        _app = new SanctumApplication();
        _server = _app.WithWebHostBuilder(builder => builder
            .UseSetting(WebHostDefaults.ServerUrlsKey, SanctumApplication.LoopbackUrls) // as UseKestrelOnLoopback
            .ConfigureServices(services => services.AddSingleton<IStartupFilter>(_meter)));
        _server.UseKestrel();
        _server.StartServer();
        _address = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    /// <summary>A client that sends a body only once the server asks for it (no timeout takes that decision instead).</summary>
    private HttpClient Client()
    {
        var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromHours(1) }) { BaseAddress = _address };
        client.DefaultRequestHeaders.ExpectContinue = true;
        return client;
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _server.Dispose();
        _app.Dispose();
    }

    // A JSON body matches no upload endpoint (it takes zip or octet-stream): refused by the global limit, unread too.
    [TestCase(null, HttpStatusCode.Unauthorized)]
    [TestCase("application/zip", HttpStatusCode.Unauthorized)]
    [TestCase("application/octet-stream", HttpStatusCode.Unauthorized)]
    [TestCase("application/json", HttpStatusCode.RequestEntityTooLarge)]
    public async Task AnAnonymousUploadIsRefusedWithoutItsBodyBeingRead(string? contentType, HttpStatusCode status)
    {
        var response = await Client().PostAsync("/api/backups/upload", Zeros(Large, contentType));
        await response.AssertProblemAsync(status);
        Assert.That(_meter.Last, Is.Zero, "bytes of an anonymous upload read before the answer");
        var backups = Path.Combine(_app.DataDirectory, "backups");
        Assert.That(Directory.Exists(backups) ? Directory.GetFiles(backups) : [], Is.Empty);
    }

    [TestCase("viewer")]
    [TestCase("user")]
    public async Task AnUploadFromARoleBelowAdminIs403WithoutItsBodyBeingRead(string role)
    {
        var client = await SignedInAsync(role);
        var response = await client.PostAsync("/api/backups/upload", Zeros(Large, null));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(_meter.Last, Is.Zero, $"bytes of a {role}'s upload read before the answer");
    }

    [TestCase(null)]
    [TestCase("application/json")]
    public async Task AnAnonymousJsonWriteIs401WithoutItsBodyBeingRead(string? contentType)
    {
        var response = await Client().PostAsync("/api/users", Zeros(512 * 1024, contentType));
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(_meter.Last, Is.Zero, "bytes read before signing in");
    }

    [Test]
    public async Task AnAdminsUploadOverTheGlobalLimitIsStreamedToItsOwnCheck()
    {
        // Over the global 1 MiB limit, no Content-Type and no zip: the upload's own check refuses it (400), having
        // read it whole, where the JSON check would have held it in memory or the global limit answered 413.
        var client = await SignedInAsync("admin");
        var response = await client.PostAsync("/api/backups/upload", Zeros(3L * 1024 * 1024, null));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid backup"));
        Assert.That(_meter.Last, Is.EqualTo(3L * 1024 * 1024));
    }

    private async Task<HttpClient> SignedInAsync(string role)
    {
        var username = $"{role}-{Guid.NewGuid():N}"[..20];
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES (@username, @email, @hash, @role)",
                new { username, email = $"{username}@example.test", hash = BCrypt.Net.BCrypt.HashPassword("role-password-1", 4), role });
        var client = Client();
        var token = await SanctumApplication.LoginAsync(client, username, "role-password-1");
        Assert.That(token, Is.Not.Null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    private static StreamContent Zeros(long length, string? contentType)
    {
        var content = new StreamContent(new ZeroStream(length), 16 * 1024);
        content.Headers.ContentLength = length;
        if (contentType is not null) content.Headers.ContentType = new(contentType);
        return content;
    }

    /// <summary>Wraps every request body; <see cref="Last"/> is what the last request had read when its answer started.</summary>
    private sealed class BodyMeter : IStartupFilter
    {
        private long _last = -1;
        public long Last => Interlocked.Read(ref _last);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var body = new CountingStream(context.Request.Body);
                context.Request.Body = body;
                context.Response.OnStarting(() =>
                {
                    Interlocked.Exchange(ref _last, body.Count);
                    return Task.CompletedTask;
                });
                await nextMiddleware(context);
            });
            next(app);
        };
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _count;
        public long Count => Interlocked.Read(ref _count);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref _count, n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Interlocked.Add(ref _count, n);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A body of zeros made on demand, nothing held in memory.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
