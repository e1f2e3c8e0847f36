namespace Sanctum.Api.Tests.Browser;

/// <summary>The chat page's conversation list: the user's sessions newest first, titled by their first message; New chat; switching.</summary>
public class ChatConversationsTests : BrowserTest
{
    [Test]
    public async Task ANewChatIsListedByItsFirstMessageAndTheUserSwitchesBetweenConversations()
    {
        await SignInAsync(CreateUser("user"), UserPassword);
        var missing = new List<string>();
        Page.Response += (_, response) => { if (response.Status == 404) missing.Add(response.Url); };
        await Page.GotoAsync("/?agent=monday");
        var list = Page.Locator("[data-testid=conversation-select]");
        await Expect(list.Locator("option")).ToHaveTextAsync(["New chat"]);
        await Expect(Page.Locator("[data-testid=messages]")).ToContainTextAsync("Say hello to");

        await Page.FillAsync("[data-testid=message-input]", "Plan the garden for spring");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(list.Locator("option")).ToHaveCountAsync(1);
        await Expect(list.Locator("option").First).ToContainTextAsync("Plan the garden for spring");

        await Page.ClickAsync("[data-testid=new-chat]");
        await Expect(list.Locator("option").First).ToHaveTextAsync("New chat");
        await Expect(Page.Locator("[data-testid=messages] [data-testid=message]")).ToHaveCountAsync(0);
        await Page.FillAsync("[data-testid=message-input]", "Book a table for Friday");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(list.Locator("option")).ToHaveCountAsync(2);
        await Expect(list.Locator("option").First).ToContainTextAsync("Book a table for Friday");

        // Newest first after a reload too, from the server's list; switching shows the other conversation.
        await Page.ReloadAsync();
        await Expect(list.Locator("option")).ToHaveCountAsync(2);
        await Expect(list.Locator("option").First).ToContainTextAsync("Book a table for Friday");
        await Expect(list.Locator("option").Nth(1)).ToContainTextAsync("Plan the garden for spring");
        var older = await list.Locator("option").Nth(1).GetAttributeAsync("value");
        await list.SelectOptionAsync(older!);
        await Expect(Page.Locator("[data-testid=messages] [data-testid=message]")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-testid=messages] [data-testid=message]")).ToContainTextAsync("Plan the garden for spring");

        Assert.That(missing, Is.Empty, "no request for a session that has no message yet");
        Assert.That(PageErrors, Is.Empty);
    }
}
