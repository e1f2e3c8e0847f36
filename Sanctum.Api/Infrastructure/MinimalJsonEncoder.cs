using System.Text.Encodings.Web;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Escapes only what JSON requires (quotes, backslashes, control characters, lone surrogates), so emoji and other
/// text leave as UTF-8 (the built-in encoders escape every character outside the Basic Multilingual Plane).
/// Responses are JSON, never HTML, and the pages render data with textContent.
/// </summary>
public sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    public static readonly MinimalJsonEncoder Instance = new();

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar is '"' or '\\' or 0x7F || (unicodeScalar is >= 0xD800 and <= 0xDFFF);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < textLength && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (WillEncode(c)) return i;
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!WillEncode(unicodeScalar))
        {
            var span = new Span<char>(buffer, bufferLength);
            return new System.Text.Rune(unicodeScalar).TryEncodeToUtf16(span, out numberOfCharactersWritten);
        }
        if (bufferLength < 6) { numberOfCharactersWritten = 0; return false; }
        var hex = ((ushort)unicodeScalar).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        buffer[0] = '\\'; buffer[1] = 'u';
        for (var i = 0; i < 4; i++) buffer[2 + i] = hex[i];
        numberOfCharactersWritten = 6;
        return true;
    }
}
