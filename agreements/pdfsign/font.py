"""An embedded TrueType font for the text of signature stamps.

pyHanko's default stamp font is Courier, one of the 14 standard fonts that a PDF reader
supplies itself. PDF/A forbids fonts that are not embedded, so a stamp in Courier would make
a sealed PDF/A-3b agreement fail conformance; Courier's encoding also lacks most letters
outside Western Europe. pyHanko's own embedded-font engine needs HarfBuzz, which is not a
dependency here, so this is a small one without shaping: a CID-keyed font (glyph ids as
codes, every glyph of the font reachable) with the subset embedded and a ToUnicode map so
that the stamp's text can be copied. Scripts that need shaping (Arabic, Indic) come out
unjoined; names in Latin, Greek and Cyrillic scripts come out right.
"""

# pyHanko's PDF object constructors are not annotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import functools
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from fontTools import subset, ttLib  # type: ignore[import-untyped]
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.writer import BasePdfFileWriter

_NOTDEF = 0
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))


@dataclass(frozen=True)
class _Metrics:
    postscript_name: str
    units_per_em: int
    glyph_for: dict[int, int]  # code point -> glyph id
    advance: dict[int, int]  # glyph id -> advance width, in font units
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float


class EmbeddedFontFactory(FontEngineFactory):
    """Stamp text in the TrueType font at ``path``, embedded as a subset."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: object = None
    ) -> FontEngine:
        return EmbeddedFont(writer, self.path)


class EmbeddedFont(FontEngine):
    def __init__(self, writer: BasePdfFileWriter, path: Path) -> None:
        self.path = path
        self.metrics = _metrics(path)
        super().__init__(writer, self.metrics.postscript_name, embedded_subset=True)
        self._text_for_glyph: dict[int, str] = {}
        self._reference = writer.allocate_placeholder()
        self._written = False

    @property
    def uses_complex_positioning(self) -> bool:
        # The widths in the font dictionary move the pen; no positioning operators.
        return False

    def shape(self, txt: str) -> ShapeResult:
        glyphs = []
        for character in txt:
            glyph = self.metrics.glyph_for.get(ord(character), _NOTDEF)
            self._text_for_glyph.setdefault(glyph, character)
            glyphs.append(glyph)
        width = sum(self.metrics.advance.get(glyph, 0) for glyph in glyphs)
        codes = "".join(f"{glyph:04x}" for glyph in glyphs)
        return ShapeResult(
            graphics_ops=f"<{codes}> Tj".encode("ascii"),
            x_advance=width / self.metrics.units_per_em,
            y_advance=0,
        )

    def as_resource(self) -> generic.IndirectObject:
        return self._reference

    def prepare_write(self) -> None:
        """Write the font objects once every string has been shaped, so that the subset
        holds every glyph used."""
        if self._written:
            return
        self._written = True
        writer, metrics = self.writer, self.metrics
        name = f"{self.subset_prefix}+{metrics.postscript_name}"
        used = sorted(self._text_for_glyph)
        beyond_ascii = frozenset(self._text_for_glyph.values()) - _PRINTABLE_ASCII
        font_program = _subset(self.path, beyond_ascii)
        program = generic.StreamObject(
            # ISO 32000 requires the decoded length of a TrueType program.
            {"/Length1": generic.NumberObject(len(font_program))},
            stream_data=font_program,
        )
        program.compress()
        descriptor = generic.DictionaryObject(
            {
                "/Type": generic.NameObject("/FontDescriptor"),
                "/FontName": generic.NameObject("/" + name),
                "/Flags": generic.NumberObject(32),  # non-symbolic
                "/FontBBox": generic.ArrayObject(
                    generic.NumberObject(self._scaled(value)) for value in metrics.bbox
                ),
                "/ItalicAngle": generic.FloatObject(metrics.italic_angle),
                "/Ascent": generic.NumberObject(self._scaled(metrics.ascent)),
                "/Descent": generic.NumberObject(self._scaled(metrics.descent)),
                "/CapHeight": generic.NumberObject(self._scaled(metrics.cap_height)),
                "/StemV": generic.NumberObject(80),
                "/FontFile2": writer.add_object(program),
            }
        )
        widths = generic.ArrayObject()
        for glyph in used:
            widths.append(generic.NumberObject(glyph))
            widths.append(
                generic.ArrayObject(
                    [generic.NumberObject(self._scaled(metrics.advance.get(glyph, 0)))]
                )
            )
        cid_font = generic.DictionaryObject(
            {
                "/Type": generic.NameObject("/Font"),
                "/Subtype": generic.NameObject("/CIDFontType2"),
                "/BaseFont": generic.NameObject("/" + name),
                "/CIDSystemInfo": generic.DictionaryObject(
                    {
                        "/Registry": generic.pdf_string("Adobe"),
                        "/Ordering": generic.pdf_string("Identity"),
                        "/Supplement": generic.NumberObject(0),
                    }
                ),
                "/FontDescriptor": writer.add_object(descriptor),
                "/CIDToGIDMap": generic.NameObject("/Identity"),
                "/W": widths,
            }
        )
        to_unicode = generic.StreamObject(stream_data=_to_unicode_cmap(self._text_for_glyph))
        to_unicode.compress()
        font = generic.DictionaryObject(
            {
                "/Type": generic.NameObject("/Font"),
                "/Subtype": generic.NameObject("/Type0"),
                "/BaseFont": generic.NameObject("/" + name),
                "/Encoding": generic.NameObject("/Identity-H"),
                "/DescendantFonts": generic.ArrayObject([writer.add_object(cid_font)]),
                "/ToUnicode": writer.add_object(to_unicode),
            }
        )
        writer.add_object(font, idnum=self._reference.idnum)

    def _scaled(self, value: float) -> int:
        """Font units to the 1000-per-em units of PDF glyph space."""
        return round(value * 1000 / self.metrics.units_per_em)


@functools.cache
def _metrics(path: Path) -> _Metrics:
    font = ttLib.TTFont(path, lazy=True)
    head, hhea, os2, post = font["head"], font["hhea"], font["OS/2"], font["post"]
    glyph_ids = {name: index for index, name in enumerate(font.getGlyphOrder())}
    advance = {glyph_ids[name]: width for name, (width, _lsb) in font["hmtx"].metrics.items()}
    return _Metrics(
        postscript_name=str(font["name"].getDebugName(6) or path.stem).replace(" ", ""),
        units_per_em=int(head.unitsPerEm),
        glyph_for={code: glyph_ids[name] for code, name in font.getBestCmap().items()},
        advance=advance,
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        ascent=int(hhea.ascent),
        descent=int(hhea.descent),
        cap_height=int(getattr(os2, "sCapHeight", hhea.ascent)),
        italic_angle=float(post.italicAngle),
    )


@functools.lru_cache(maxsize=64)
def _subset(path: Path, beyond_ascii: frozenset[str]) -> bytes:
    """The font program reduced to printable ASCII plus ``beyond_ascii``, glyph ids
    unchanged (they are the codes in the content stream).

    Subsetting takes ~0.15 s, too slow for every seal. With all of ASCII in (7 kB
    compressed), the time in the stamp never misses the cache; only names with new letters
    outside ASCII do."""
    options = subset.Options()
    options.retain_gids = True
    options.notdef_outline = True
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(_PRINTABLE_ASCII | beyond_ascii)))
    font = ttLib.TTFont(path)
    subsetter.subset(font)
    output = BytesIO()
    font.save(output)
    return output.getvalue()


def _to_unicode_cmap(text_for_glyph: dict[int, str]) -> bytes:
    pairs = [
        f"<{glyph:04x}> <{text.encode('utf-16-be').hex()}>"
        for glyph, text in sorted(text_for_glyph.items())
        if glyph != _NOTDEF
    ]
    # A bfchar block may hold at most 100 entries.
    blocks = "".join(
        f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
        for chunk in (pairs[start : start + 100] for start in range(0, len(pairs), 100))
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
        f"{blocks}"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
