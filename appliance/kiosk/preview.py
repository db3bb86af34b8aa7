"""A picture of a printed ticket or slip, from the same lines the printer gets: for a simulated kiosk, the demo,
the docs and tests.

Thermal printers print 8 dots per millimetre (203 dpi): 576 dots across 80 mm paper, 384 across 58 mm. A
font A character is 12 × 24 dots, magnified as the printer magnifies it.
"""
from __future__ import annotations

import io
from pathlib import Path

import qrcode     # python-escpos's own dependency for QR codes
from PIL import Image, ImageDraw, ImageFont

from appliance.core.durable import write_atomic
from appliance.kiosk.ticket import QR_MODULE_DOTS, SIZES, Line, Slip, Ticket, TicketLayout, address_lines

DOTS = {80: 576, 58: 384}
CHAR_W, CHAR_H = 12, 24
MARGIN = 24
QR_GAP = 12      # dots above and below the QR code
FONTS = {False: "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
         True: "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"}


def _font(bold: bool, magnify: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONTS[bold], int(CHAR_H * magnify * 0.82))
    except OSError:  # no DejaVu (fonts-dejavu-core): Pillow's own font still shows the layout
        return ImageFont.load_default(size=int(CHAR_H * magnify * 0.8))


def render_preview(printed: Ticket | Slip, layout: TicketLayout) -> Image.Image:
    width = DOTS[layout.paper_mm]
    lines = printed.lines(layout)
    code = _qr(printed.qr, layout) if printed.qr else None
    under = address_lines(printed.qr, layout) if printed.qr else []
    height = MARGIN * 2 + _height([*lines, *under], layout) + (code.height + 2 * QR_GAP if code else 0)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = _draw_lines(draw, lines, layout, MARGIN)
    if code is not None:
        image.paste(code, ((width - code.width) // 2, y + QR_GAP))
        _draw_lines(draw, under, layout, y + code.height + 2 * QR_GAP)
    return image.convert("RGB")


def _height(lines: list[Line], layout: TicketLayout) -> int:
    return sum(CHAR_H * SIZES[layout.paper_mm][line.size] + 4 for line in lines)


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[Line], layout: TicketLayout, y: int) -> int:
    """Draws the lines from `y` down; returns where the next would start."""
    width = draw.im.size[0]
    for line in lines:
        magnify = SIZES[layout.paper_mm][line.size]
        line_h = CHAR_H * magnify
        if line.rule:
            draw.line((8, y + line_h // 2, width - 8, y + line_h // 2), fill=0, width=2)
        else:
            font = _font(line.bold, magnify)
            text_w = draw.textlength(line.text, font=font)
            x = (width - text_w) / 2
            if line.invert:
                draw.rectangle((x - 6, y - 2, x + text_w + 6, y + line_h), fill=0)
            draw.text((x, y), line.text, font=font, fill=255 if line.invert else 0)
        y += line_h + 4
    return y


def _qr(payload: str, layout: TicketLayout) -> Image.Image:
    """The code as the printer draws it: modules of QR_MODULE_DOTS dots, with the same error correction."""
    code = qrcode.QRCode(box_size=QR_MODULE_DOTS[layout.paper_mm], border=1,
                         error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    return code.make_image().get_image().convert("L")


def save_preview(printed: Ticket | Slip, layout: TicketLayout, path: Path) -> Path:
    path = Path(path)
    render_preview(printed, layout).save(path)
    return path


class TicketKeeper:
    """A copy of each ticket and slip a simulated kiosk prints (its `on_printed`): the exact ESC/POS bytes and a
    picture of the paper, side by side in one folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, printed: Ticket | Slip, layout: TicketLayout, raw: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / f"{printed.issued_at:%Y%m%d-%H%M%S}-{printed.label}"
        picture = io.BytesIO()
        render_preview(printed, layout).save(picture, format="PNG")
        write_atomic(stem.with_suffix(".bin"), raw)             # whole or not at all, for whoever reads the folder
        write_atomic(stem.with_suffix(".png"), picture.getvalue())
