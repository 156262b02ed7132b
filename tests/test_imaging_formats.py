"""Every format a camera or phone writes loads upright, in sRGB, as RGB: real files made with
Pillow, pillow-heif and tifffile, plus the shared test photos when ../shared is present."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

import imagegen as g
from photofinder.pixels import imaging
from photofinder.pixels.formats import sniff

ORIENTATIONS = range(1, 9)


def _exif_kw(fmt: str, o: int) -> dict:
    return {"exif": g.exif_with(o) if fmt == "TIFF" else g.exif_with(o).tobytes()}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"])
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_every_orientation_comes_out_upright(fmt, orientation):
    data = g.encode(g.stored_for(orientation), fmt, quality=95, **_exif_kw(fmt, orientation))
    d = imaging.decode(data, need=0)
    assert d.image.mode == "RGB"
    assert g.is_upright(d.image), (fmt, orientation, g.quadrants(d.image))
    assert (d.width, d.height) == (g.W, g.H)  # full size as displayed
    assert d.orientation == orientation
    assert d.format == {"WEBP": "WEBP"}.get(fmt, fmt)


def test_jpeg_draft_keeps_orientation_and_full_size():
    big = g.upright(2400, 1600)
    data = g.encode(g.stored_for(6, big), "JPEG", quality=90, exif=g.exif_with(6).tobytes())
    d = imaging.decode(data, need=256)
    assert (d.width, d.height) == (2400, 1600)
    assert g.is_upright(d.image)
    assert 256 <= max(d.image.size) < 2400  # decoded reduced (draft), not at full size
    thumb = imaging.decode(data, need=128).image
    assert g.is_upright(thumb)


def test_taken_at_from_exif():
    ex = g.exif_with(1, taken="2023:07:14 10:11:12")
    d = imaging.decode(g.encode(g.upright(), "JPEG", exif=ex.tobytes()))
    assert d.taken_at == "2023:07:14 10:11:12"


def test_tiff_multipage_first_page():
    pages = [g.upright(), Image.new("RGB", (g.W, g.H), (0, 0, 0)), Image.new("RGB", (30, 30))]
    data = g.encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 3
    d = imaging.decode(data)
    assert g.is_upright(d.image) and d.meta["frames"] == 3


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])  # animated GIF, WebP, APNG
def test_animated_first_frame(fmt):
    frames = [g.upright(), Image.new("RGB", (g.W, g.H), (0, 0, 0)), Image.new("RGB", (g.W, g.H), (255, 255, 0))]
    data = g.encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    d = imaging.decode(data)
    assert d.meta["frames"] == 3
    assert g.is_upright(d.image), g.quadrants(d.image)


def test_mpo_first_image():
    second = Image.new("RGB", (g.W, g.H), (0, 0, 0))
    data = g.encode(g.upright(), "MPO", save_all=True, append_images=[second], quality=95)
    d = imaging.decode(data)
    assert d.format == "MPO" and d.meta["frames"] == 2
    assert g.is_upright(d.image)


@pytest.mark.parametrize("fmt", ["BMP", "PPM", "TIFF", "WEBP", "PNG", "JPEG", "GIF", "HEIF", "AVIF"])
def test_simple_formats(fmt):
    d = imaging.decode(g.encode(g.upright(), fmt, quality=95))
    assert d.image.mode == "RGB" and (d.width, d.height) == (g.W, g.H)
    assert g.is_upright(d.image, tol=60)


def test_heif_orientation_reported_from_transforms():
    data = g.encode(g.stored_for(8), "HEIF", exif=g.exif_with(8).tobytes())
    d = imaging.decode(data)
    assert g.is_upright(d.image) and d.orientation == 8 and d.format == "HEIF"


# -- camera RAW: DNG through rawpy -------------------------------------------------------------
def _dominant(rgb) -> int:
    return int(np.argmax(rgb))


def _raw_geometry_ok(img: Image.Image) -> bool:
    """Demosaiced colours are not exact (camera matrix, auto-bright): check the hue of each
    quadrant (red, green, blue, bright) and that the picture is landscape."""
    tl, tr, bl, br = g.quadrants(img)
    return (img.width > img.height and _dominant(tl) == 0 and _dominant(tr) == 1
            and _dominant(bl) == 2 and min(br) > 180)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("preview", ["jpeg", "bitmap"])
def test_dng_uses_embedded_preview_upright(orientation, preview):
    data = g.make_dng(orientation, preview)
    assert sniff(data) == "TIFF"
    d = imaging.decode(data, need=48)  # the 96x64 preview is big enough
    assert d.format == "DNG" and d.meta["raw"] == "preview"
    assert (d.width, d.height) == (192, 128) and d.orientation == orientation
    assert g.is_upright(d.image), g.quadrants(d.image)


@pytest.mark.parametrize("orientation", [1, 6, 8])
@pytest.mark.parametrize("preview", ["jpeg", None])
def test_dng_demosaics_when_preview_too_small_or_absent(orientation, preview):
    data = g.make_dng(orientation, preview)
    d = imaging.decode(data, need=512)
    assert d.format == "DNG" and d.meta["raw"] == "demosaic"
    assert (d.width, d.height) == (192, 128)
    assert d.image.size == (96, 64)  # half-size postprocess
    assert _raw_geometry_ok(d.image), g.quadrants(d.image)


def test_dng_loads_through_load_and_thumbnail(tmp_path):
    p = tmp_path / "IMG_0001.dng"
    p.write_bytes(g.make_dng(6, "jpeg"))
    d, digest, size = imaging.load(p, need=32)
    assert d.format == "DNG" and size == p.stat().st_size and len(digest) == 32
    thumb = imaging.thumbnail(p, 40)
    assert max(thumb.size) == 40 and g.is_upright(thumb)


@pytest.mark.parametrize("magic,kind", [
    (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "CR2"),
    (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "CR3"),
    (b"FUJIFILMCCD-RAW 0201FF383501", "RAF"),
    (b"IIRO\x08\x00\x00\x00", "ORF"),
    (b"IIU\x00\x18\x00\x00\x00", "RW2"),
])
def test_raw_families_sniffed_and_damaged_ones_refused_cleanly(magic, kind):
    data = magic + bytes(range(256)) * 8
    assert sniff(data) == kind
    with pytest.raises(imaging.ImageError, match=f"{kind} camera RAW"):
        imaging.decode(data)


def test_format_by_content_not_name(tmp_path):
    png_named_jpg = tmp_path / "holiday.jpg"
    png_named_jpg.write_bytes(g.encode(g.upright(), "PNG"))
    jpeg_named_svg = tmp_path / "drawing.svg"
    jpeg_named_svg.write_bytes(g.encode(g.upright(), "JPEG", quality=95))
    heic_named_png = tmp_path / "phone.png"
    heic_named_png.write_bytes(g.encode(g.upright(), "HEIF"))
    dng_named_tif = tmp_path / "raw.tif"
    dng_named_tif.write_bytes(g.make_dng(1, None))
    for p, fmt in [(png_named_jpg, "PNG"), (jpeg_named_svg, "JPEG"), (heic_named_png, "HEIF"),
                   (dng_named_tif, "DNG")]:
        d, _, _ = imaging.load(p)
        assert d.format == fmt
        assert d.image.mode == "RGB"


# -- colour modes, alpha, ICC -------------------------------------------------------------------
def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b.convert("RGB"), np.int16)).mean())


@pytest.mark.parametrize("mode,fmt", [
    ("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGBA", "PNG"),
    ("CMYK", "JPEG"), ("CMYK", "TIFF"), ("YCbCr", "JPEG"), ("YCbCr", "TIFF"), ("I;16", "PNG"),
    ("I;16", "TIFF"), ("I", "TIFF"), ("F", "TIFF"), ("LAB", "TIFF"), ("RGBA", "WEBP"),
    ("L", "JPEG"), ("RGB", "BMP"), ("P", "GIF"), ("LA", "TIFF"), ("RGBA", "TIFF"),
])
def test_colour_modes_convert_faithfully(mode, fmt):
    base = g.upright()
    if mode in ("I;16", "I"):
        src = Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257)
        if mode == "I":
            src = src.convert("I")
        expected = base.convert("L")
    elif mode == "F":
        src = Image.fromarray(np.asarray(base.convert("L"), np.float32) / 255.0, "F")
        expected = base.convert("L")
    elif mode == "PA":
        src = base.convert("P").convert("PA")
        expected = base.convert("P")
    else:
        src = base.convert(mode)
        expected = src
    data = g.encode(src, fmt, quality=95) if fmt in ("JPEG", "WEBP") else g.encode(src, fmt)
    d = imaging.decode(data)
    assert d.image.mode == "RGB" and d.image.size == base.size
    tol = 12 if fmt in ("JPEG", "WEBP") or mode in ("LAB", "1") else 3
    if mode == "1":
        expected = src.convert("L")
    assert _mean_diff(d.image, expected) <= tol, (mode, fmt, Image.open(io.BytesIO(data)).mode)


def test_to_rgb_every_mode_in_memory():
    base = g.upright()
    for mode in ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr",
                 "LAB", "HSV", "I", "I;16", "F"]:
        if mode == "I;16":
            src = Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257)
        elif mode == "La":
            src = base.convert("LA").convert("La")
        else:
            src = base.convert(mode)
        out = imaging.to_rgb(src)
        assert out.mode == "RGB" and out.size == base.size, mode
        if mode in ("RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
            assert _mean_diff(out, base) <= 12, mode
        elif mode in ("P", "PA"):  # palette quantisation (dithered) is the only loss
            assert _mean_diff(out, base.convert("P")) <= 1, mode
        elif mode == "1":  # dithered black and white
            assert _mean_diff(out, src.convert("L")) == 0
        else:
            assert _mean_diff(out, base.convert("L")) <= 2, mode


def test_float_and_wide_ranges_are_scaled_not_clipped():
    ramp = np.tile(np.linspace(-500.0, 3000.0, 64, dtype=np.float32), (16, 1))
    out = np.asarray(imaging.to_rgb(Image.fromarray(ramp, "F")))[..., 0]
    assert out.min() == 0 and out.max() == 255 and np.all(np.diff(out[0].astype(int)) >= 0)
    nan = np.full((8, 8), np.nan, np.float32)
    assert imaging.to_rgb(Image.fromarray(nan, "F")).getpixel((0, 0)) == (0, 0, 0)


def test_alpha_composited_on_white():
    a = np.zeros((20, 20, 4), np.uint8)
    a[:, :10] = (255, 0, 0, 0)  # fully transparent red: white
    a[:, 10:] = (255, 0, 0, 128)  # half transparent red on white: pink
    for fmt in ("PNG", "WEBP", "TIFF"):
        d = imaging.decode(g.encode(Image.fromarray(a, "RGBA"), fmt, lossless=True)
                           if fmt == "WEBP" else g.encode(Image.fromarray(a, "RGBA"), fmt))
        assert g.close(d.image.getpixel((2, 10)), (255, 255, 255), 2), fmt
        assert g.close(d.image.getpixel((15, 10)), (255, 127, 127), 3), fmt
    gif = Image.new("P", (10, 10), 0)
    gif.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    gif.paste(1, (5, 0, 10, 10))
    d = imaging.decode(g.encode(gif, "GIF", transparency=0))
    assert d.image.getpixel((1, 1)) == (255, 255, 255) and d.image.getpixel((8, 1)) == (255, 0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP"])
def test_embedded_icc_profile_converted_to_srgb(fmt):
    icc = g.swapped_rgb_icc()
    ImageCms.ImageCmsProfile(io.BytesIO(icc))  # a valid profile
    src = Image.new("RGB", (16, 16), (255, 0, 0))
    d = imaging.decode(g.encode(src, fmt, icc_profile=icc, quality=95))
    r, gg, b = d.image.getpixel((8, 8))
    assert b > 200 and r < 40, (fmt, (r, gg, b))  # "red" in that space is sRGB blue


def test_broken_icc_profile_is_ignored():
    src = Image.new("RGB", (16, 16), (255, 0, 0))
    d = imaging.decode(g.encode(src, "PNG", icc_profile=b"not a profile at all" * 10))
    assert d.image.getpixel((8, 8)) == (255, 0, 0)


def test_one_pixel_images():
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"):
        d = imaging.decode(g.encode(Image.new("RGB", (1, 1), (10, 20, 30)), fmt))
        assert d.image.size == (1, 1) and (d.width, d.height) == (1, 1), fmt


def test_thumbnail_is_upright_and_bounded(tmp_path):
    p = tmp_path / "t.jpg"
    p.write_bytes(g.encode(g.stored_for(8, g.upright(900, 600)), "JPEG", exif=g.exif_with(8).tobytes()))
    t = imaging.thumbnail(p, 100)
    assert t.size == (100, 67) and g.is_upright(t)


def test_candidates_by_extension():
    for name in ["a.JPG", "b.heic", "c.HEIF", "d.avif", "e.cr3", "f.NEF", "g.arw", "h.dng", "i.raf",
                 "j.orf", "k.rw2", "l.cr2", "m.mpo", "n.tiff", "o.gif", "p.webp", "q.bmp", "r.png"]:
        assert imaging.is_candidate(name), name
    for name in ["notes.txt", "movie.mp4", "x.jpg.part", "Thumbs.db", "noext"]:
        assert not imaging.is_candidate(name), name


# -- the shared real photos ----------------------------------------------------------------------
def _embed_ok(embedder, img: Image.Image) -> np.ndarray:
    from photofinder.pixels.embedding import preprocess

    v = embedder.embed([preprocess.prepare(img)])[0]
    assert np.all(np.isfinite(v)) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-3
    return v


def test_shared_modes_all_load_and_embed(shared_testdata, embedder):
    modes = shared_testdata / "pdq" / "misc-images" / "modes"
    files = sorted(p for p in modes.iterdir() if p.suffix != ".md")
    assert len(files) >= 14
    ref = _embed_ok(embedder, imaging.load(modes / "original.jpg", 256)[0].image)
    for p in files:
        d, _, _ = imaging.load(p, 256)
        assert d.image.mode == "RGB" and (d.width, d.height) == (1600, 1004), p.name
        v = _embed_ok(embedder, d.image)
        # the same bridge whatever the mode: colour conversions are right, not just "no crash"
        assert float(v @ ref) > 0.6, (p.name, float(v @ ref))


def test_shared_formats_load_and_embed(shared_testdata, embedder):
    folder = shared_testdata / "imagededup" / "formats_images"
    files = sorted(folder.iterdir())
    assert len(files) >= 10
    for p in files:
        d, _, _ = imaging.load(p, 256)
        _embed_ok(embedder, d.image)
    # the .svg is a JPEG in disguise: loaded as what it is, same pixels as the .jpeg
    svg, _, _ = imaging.load(folder / "ukbench09380.svg", 0)
    jpg, _, _ = imaging.load(folder / "ukbench09380.jpeg", 0)
    assert svg.format == "JPEG" and _mean_diff(svg.image, jpg.image) < 1


def test_shared_exif_rotations_match_when_orientation_is_applied(shared_testdata, embedder):
    """One scene shot with the phone held four ways: honouring EXIF, each is closer to the
    upright shot (for the model) than its raw, sideways or upside-down pixels are."""
    folder = shared_testdata / "pdq" / "reg-test-input" / "exif-rotn"
    ref = _embed_ok(embedder, imaging.load(folder / "exif-rotn-1.jpg", 256)[0].image)
    for o in (3, 6, 8):
        p = folder / f"exif-rotn-{o}.jpg"
        d = imaging.load(p, 256)[0]
        assert d.orientation == o
        as_stored = Image.open(p)
        as_stored.draft("RGB", (256, 256))
        shown = float(_embed_ok(embedder, d.image) @ ref)
        raw = float(_embed_ok(embedder, as_stored.convert("RGB")) @ ref)
        assert shown > raw + 0.05, (o, shown, raw)


def test_shared_corrupt_jpeg_clear_error(shared_testdata):
    p = shared_testdata / "imagededup" / "mixed_images" / "ukbench09268_corrupt.jpg"
    with pytest.raises(imaging.ImageError) as e:
        imaging.load(p)
    msg = str(e.value)
    assert "\n" not in msg and "not an image" in msg and ".jpg" in msg


def test_shared_truncated_copies_clear_error(shared_testdata, tmp_path):
    src = (shared_testdata / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    for frac in (0.1, 0.5, 0.9):
        p = tmp_path / f"cut{frac}.jpg"
        p.write_bytes(src[: int(len(src) * frac)])
        with pytest.raises(imaging.ImageError, match="truncated") as e:
            imaging.load(p)
        assert "\n" not in str(e.value)


def test_capture_time_is_the_shutter_never_the_last_save(tmp_path):
    """DateTimeOriginal is when the photo was taken; DateTime is when a file was last
    written (an editor sets it on every save), so it never counts as a capture time."""
    saved, shot, none = tmp_path / "saved.jpg", tmp_path / "shot.jpg", tmp_path / "none.jpg"
    img = Image.new("RGB", (32, 24), (90, 120, 60))
    exif = Image.Exif()
    exif[0x0132] = "2016:08:17 11:13:30"  # DateTime only
    img.save(saved, exif=exif)
    exif = Image.Exif()
    exif[0x0132] = "2020:01:02 03:04:05"
    exif.get_ifd(0x8769)[0x9003] = "2019:12:31 23:59:58"  # DateTimeOriginal
    img.save(shot, exif=exif)
    img.save(none)
    assert imaging.capture_time(saved) is None
    assert imaging.capture_time(shot) == "2019:12:31 23:59:58"
    assert imaging.capture_time(none) is None
    assert imaging.capture_time(tmp_path / "missing.jpg") is None
