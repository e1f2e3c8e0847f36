using System.ComponentModel.DataAnnotations;
using System.Net.Http.Headers;
using Sanctum.Api.Tests.Client;

namespace Sanctum.Api.Tests;

/// <summary>
/// The main flows through the typed client that the build generates from openapi.yaml (NSwag, see the test
/// project file): if the document describes a path, a body, a status or a schema wrongly, these calls fail to
/// compile, to send, or to read the answer.
/// </summary>
public class ContractClientTests
{
    private SanctumApplication _app = null!;

    [SetUp]
    public void StartApp() => _app = new SanctumApplication();

    [TearDown]
    public async Task StopApp() => await _app.DisposeAsync();

    private (SanctumClient Client, HttpClient Http) Client(string? bearer = null)
    {
        var http = _app.CreateClient();
        if (bearer is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return (new SanctumClient(http), http);
    }

    private async Task<SanctumClient> AdminAsync()
    {
        var admin = await _app.CreateAdminClientAsync();
        return new SanctumClient(admin);
    }

    [Test]
    public async Task SigningInWithTheDefaultPasswordForcesAChangeBeforeAnythingElse()
    {
        var (anonymous, _) = Client();
        var login = await anonymous.LoginAsync(new LoginRequest { Username = "admin", Password = "admin123" });
        Assert.That(login.User.Must_change_password, Is.True);
        Assert.That(login.Expires_at, Is.GreaterThan(DateTimeOffset.UtcNow));

        var (session, _) = Client(login.Token);
        var refused = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => session.ListToolsAsync());
        Assert.That(refused!.StatusCode, Is.EqualTo(403));
        Assert.That(refused.Result.Type, Does.EndWith("password-change-required"));

        await session.ChangePasswordAsync(new PasswordChangeRequest { Current_password = "admin123", New_password = "a-new-password-1" });
        Assert.That((await session.GetCurrentUserAsync()).Must_change_password, Is.False);
        Assert.That(await session.ListToolsAsync(), Is.Not.Empty);

        var wrong = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => anonymous.LoginAsync(new LoginRequest { Username = "admin", Password = "admin123" }));
        Assert.That(wrong!.StatusCode, Is.EqualTo(401));
        var (signedOut, _) = Client();
        Assert.That((await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => signedOut.GetCurrentUserAsync()))!.StatusCode, Is.EqualTo(401));
    }

    [Test]
    public async Task ToolsAreWrittenReadAndDeletedAndAMissingOneIsA404Problem()
    {
        var admin = await AdminAsync();
        var created = await admin.CreateToolAsync(new ToolWrite
        {
            Id = "contract-tool", Name = "Contract tool", Category = "master", Status = ToolWriteStatus.Degraded, Route_path = "/contract-tool",
            Module_scope = ToolWriteModule_scope.Agent,
        });
        Assert.That(created.Status, Is.EqualTo(ToolStatus.Degraded));
        Assert.That(created.Module_scope, Is.EqualTo(ToolModule_scope.Agent));

        var changed = await admin.UpdateToolAsync("contract-tool", new ToolWrite { Description = "Changed", Is_enabled = false });
        Assert.That(changed.Description, Is.EqualTo("Changed"));
        Assert.That((await admin.GetToolAsync("contract-tool")).Is_enabled, Is.False);
        Assert.That((await admin.ListToolsAsync(category: "master", enabled: false)).Select(t => t.Id), Does.Contain("contract-tool"));

        var clash = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => admin.CreateToolAsync(new ToolWrite { Id = "contract-tool", Name = "Again", Category = "master" }));
        Assert.That(clash!.StatusCode, Is.EqualTo(409));
        var invalid = await Assert.ThrowsAsync<ApiException<HttpValidationProblemDetails>>(() => admin.CreateToolAsync(new ToolWrite { Id = "Bad Id", Name = "x", Category = "master" }));
        Assert.That(invalid!.Result.Errors.Keys, Does.Contain("id"));

        await admin.DeleteToolAsync("contract-tool");
        var gone = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => admin.GetToolAsync("contract-tool"));
        Assert.That(gone!.StatusCode, Is.EqualTo(404));
    }

    [Test]
    public async Task AUserIsCreatedWithATemporaryPasswordChangesItAndIsDeactivated()
    {
        var admin = await AdminAsync();
        var user = await admin.CreateUserAsync(new UserCreate { Username = "contract.user", Email = "contract@example.test", Role = UserCreateRole.User });
        Assert.That(user.Temporary_password, Does.Match("^[A-HJ-NP-Za-km-z2-9]{16}$"));
        Assert.That(user.Must_change_password, Is.True);
        Assert.That((await admin.ListUsersAsync(search: "contract", role: Role.User)).Items.Select(u => u.Id), Is.EqualTo(new[] { user.Id }));

        var (anonymous, _) = Client();
        var login = await anonymous.LoginAsync(new LoginRequest { Username = "contract.user", Password = user.Temporary_password });
        var (session, _) = Client(login.Token);
        await session.ChangePasswordAsync(new PasswordChangeRequest { Current_password = user.Temporary_password, New_password = "sturdy-lantern-41" });
        Assert.That((await session.GetCurrentUserAsync()).Username, Is.EqualTo("contract.user"));
        Assert.That((await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => session.ListUsersAsync()))!.StatusCode, Is.EqualTo(403), "a user is no admin");

        var viewer = await admin.UpdateUserAsync(user.Id, new UserUpdate { Role = UserUpdateRole.Viewer });
        Assert.That(viewer.Role, Is.EqualTo(UserRole.Viewer));
        await admin.DeactivateUserAsync(user.Id);
        Assert.That((await admin.GetUserAsync(user.Id)).Status, Is.EqualTo(UserStatus.Inactive));
        Assert.That((await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => session.GetCurrentUserAsync()))!.StatusCode, Is.EqualTo(401), "deactivating ends the sessions");
    }

    [Test]
    public async Task ASecretIsStoredMaskedAndRevealedOnlyToAnAdmin()
    {
        var admin = await AdminAsync();
        var written = await admin.PutConfigAsync("contract_secret", new SettingWrite { Value = "s3cret-value", Is_encrypted = true, Category = "contract" });
        Assert.That(written.Value, Is.EqualTo("********"));
        Assert.That((await admin.GetConfigAsync("contract_secret")).Value, Is.EqualTo("********"));
        Assert.That((await admin.GetConfigAsync("contract_secret", reveal: true)).Value, Is.EqualTo("s3cret-value"));

        var viewer = new SanctumClient(await _app.CreateClientForRoleAsync("viewer"));
        Assert.That((await viewer.GetConfigAsync("contract_secret")).Value, Is.EqualTo("********"));
        Assert.That((await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => viewer.GetConfigAsync("contract_secret", reveal: true)))!.StatusCode, Is.EqualTo(403));
    }

    [Test]
    public async Task AWebChatMessageGoesThroughTheRelayAndItsAnswerComesBack()
    {
        var admin = await AdminAsync();
        var relayKey = (string)(await admin.GetConfigAsync("chat_api_key", reveal: true)).Value;
        var (visitor, _) = Client();
        var closed = await Assert.ThrowsAsync<ApiException<BridgeError>>(() =>
            visitor.PostChatMessageAsync(new MessageRequest { Session_id = "session_contract_1", Message = "Hello?" }));
        Assert.That(closed!.StatusCode, Is.EqualTo(401), "anonymous chat is off by default");
        await admin.PutConfigAsync("chat_allow_anonymous", new SettingWrite { Value = true });

        var sent = await visitor.PostChatMessageAsync(new MessageRequest { Session_id = "session_contract_1", Message = "Hello, relay" });
        Assert.That(sent.Success, Is.True);
        Assert.That(sent.Data.Is_new_user, Is.True);

        var (relay, _) = Client(relayKey);
        var inbox = await relay.GetChatInboxAsync();
        var message = inbox.Data.Messages.Single();
        Assert.That(message.Message, Is.EqualTo("Hello, relay"));
        Assert.That(message.Uid, Is.EqualTo(sent.Data.Uid));
        await relay.PostChatResponseAsync(new OutboxRequest { Session_id = message.Session_id, Response = "Hello, visitor", Message_id = message.Id });

        var answers = await visitor.GetChatResponsesAsync(session_id: "session_contract_1");
        Assert.That(answers.Data.Responses.Select(r => r.Response), Is.EqualTo(new[] { "Hello, visitor" }));
        Assert.That(answers.Data.Responses.Single().Message_id, Is.EqualTo(message.Id));

        var (wrongKey, _) = Client("not-the-key");
        var refused = await Assert.ThrowsAsync<ApiException<BridgeError>>(() => wrongKey.GetChatInboxAsync());
        Assert.That(refused!.StatusCode, Is.EqualTo(401));
        Assert.That(refused.Result.Success, Is.False);
    }

    [Test]
    public async Task AnAccessTokenReadsAsABearerButAReadTokenMayNotWriteAndARevokedOneIsRefused()
    {
        var admin = await AdminAsync();
        var created = await admin.CreateAccessTokenAsync(new AccessTokenCreate { Name = "contract script", Expires_in_days = 30, Scope = AccessTokenCreateScope.Read });
        Assert.That(created.Token, Does.StartWith("sanctum_pat_"));
        Assert.That(created.Scope, Is.EqualTo(CreatedAccessTokenScope.Read));

        var (script, _) = Client(created.Token);
        Assert.That((await script.GetCurrentUserAsync()).Username, Is.EqualTo("admin"));
        Assert.That(await script.ListToolsAsync(), Is.Not.Empty);
        Assert.That(await script.ListBackupsAsync(), Is.Not.Null, "an admin's token reads what the admin reads");
        var write = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => script.CreateBackupAsync());
        Assert.That(write!.StatusCode, Is.EqualTo(403), "a read token may not write");
        var tokens = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => script.ListAccessTokensAsync());
        Assert.That(tokens!.StatusCode, Is.EqualTo(403), "tokens are managed from a session only");

        Assert.That((await admin.ListAccessTokensAsync()).Select(t => t.Name), Does.Contain("contract script"));
        await admin.RevokeAccessTokenAsync(created.Id);
        var revoked = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => script.ListToolsAsync());
        Assert.That(revoked!.StatusCode, Is.EqualTo(401));
    }

    [Test]
    public async Task BackupsJobsAuditStatusHistoryAndChatHistoryAnswerThroughTheClient()
    {
        var admin = await AdminAsync();

        var backup = await admin.CreateBackupAsync();
        Assert.That(backup.Kind, Is.EqualTo(BackupInfoKind.Manual));
        Assert.That((await admin.ListBackupsAsync()).Select(b => b.Name), Does.Contain(backup.Name));
        Assert.That((await admin.VerifyBackupAsync(backup.Name)).Ok, Is.True);

        var job = await admin.CreateJobAsync(new JobWrite { Name = "Contract backup", Kind = "backup", Schedule = "0 3 * * *", Enabled = false, Params = new { keep = 3 } });
        Assert.That((await admin.ListJobsAsync()).Select(j => j.Name), Does.Contain("Contract backup"));
        Assert.That((await admin.ListJobKindsAsync()).Select(k => k.Kind), Does.Contain("backup"));
        Assert.That(await admin.ListJobRunsAsync(job.Id, limit: 10), Is.Empty);

        var audit = await admin.ListAuditEventsAsync(action: "backup", limit: 10);
        Assert.That(audit.Items.Select(e => e.Action), Does.Contain("backup.created"));

        await admin.UpdateToolAsync((await admin.ListToolsAsync()).First().Id, new ToolWrite { Status = ToolWriteStatus.Off });
        var history = await admin.ListStatusHistoryAsync(kind: Kind.Tool, limit: 5);
        Assert.That(history.Select(h => h.New_status), Does.Contain(StatusChangeNew_status.Off));
        Assert.That(await admin.GetAvailabilityAsync(hours: 1), Is.Not.Empty);

        await admin.PostChatMessageAsync(new MessageRequest { Session_id = "session_contract_history", Message = "Kept on the server" });
        var sessions = await admin.ListMyChatSessionsAsync(limit: 10);
        Assert.That(sessions.Items.Select(i => i.Id), Does.Contain("session_contract_history"));
        var messages = await admin.GetMyChatMessagesAsync("session_contract_history", limit: 10);
        Assert.That(messages.Items.Select(i => i.Text), Is.EqualTo(new[] { "Kept on the server" }));
    }

    /// <summary>The rules in the schemas are the server's: what a client refuses before sending, the server refuses too.</summary>
    [TestCase("ab", "short@example.test", "username")]
    [TestCase("has space", "space@example.test", "username")]
    [TestCase("fine_name", "fine@example.test", "password", "short")]
    public async Task WhatTheClientsValidationRefusesTheServerRefuses(string username, string email, string field, string? password = null)
    {
        var body = new UserCreate { Username = username, Email = email, Password = password };
        var results = new List<ValidationResult>();
        Assert.That(Validator.TryValidateObject(body, new ValidationContext(body), results, validateAllProperties: true), Is.False,
            "the generated type's rules let it through");
        Assert.That(results.SelectMany(r => r.MemberNames), Does.Contain(field[..1].ToUpperInvariant() + field[1..]));

        var admin = await AdminAsync();
        var refused = await Assert.ThrowsAsync<ApiException<HttpValidationProblemDetails>>(() => admin.CreateUserAsync(body));
        Assert.That(refused!.Result.Errors.Keys, Does.Contain(field));
    }
}
