using System.Buffers.Binary;
using System.IO.Compression;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// The pixels of a PNG as Chromium writes screenshots (8-bit RGB or RGBA, not interlaced), enough to compare two
/// pictures; anything else is refused rather than misread.
/// </summary>
public sealed class PngImage
{
    private PngImage(int width, int height, byte[] rgba) => (Width, Height, Rgba) = (width, height, rgba);

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgba { get; }

    public static PngImage Decode(byte[] png)
    {
        if (!png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) throw new FormatException("not a PNG");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at + 8 <= png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                var (depth, color, interlace) = (data[8], data[9], data[12]);
                if (depth != 8 || color is not (2 or 6) || interlace != 0) throw new FormatException($"unsupported PNG (depth {depth}, color type {color}, interlace {interlace})");
                channels = color == 6 ? 4 : 3;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
        var stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        inflate.ReadExactly(raw);

        var rgba = new byte[width * height * 4];
        var previous = new byte[stride];
        var line = new byte[stride];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, line, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= channels ? line[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                line[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new FormatException($"unknown PNG filter {filter}"),
                });
            }
            for (var x = 0; x < width; x++)
            {
                var o = (y * width + x) * 4;
                rgba[o] = line[x * channels];
                rgba[o + 1] = line[x * channels + 1];
                rgba[o + 2] = line[x * channels + 2];
                rgba[o + 3] = channels == 4 ? line[x * channels + 3] : (byte)255;
            }
            (previous, line) = (line, previous);
        }
        return new PngImage(width, height, rgba);
    }

    /// <summary>The share of pixels (0 to 1) where any channel differs by more than <paramref name="channelTolerance"/>.</summary>
    public double DifferingShare(PngImage other, int channelTolerance)
    {
        if (other.Width != Width || other.Height != Height) return 1;
        var differing = 0;
        for (var p = 0; p < Rgba.Length; p += 4)
            for (var ch = 0; ch < 4; ch++)
                if (Math.Abs(Rgba[p + ch] - other.Rgba[p + ch]) > channelTolerance) { differing++; break; }
        return (double)differing / (Width * Height);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
