"""A picture of a printed ticket or slip, from the same lines the printer gets: for a simulated kiosk, the demo,
the docs and tests.

Thermal printers print 8 dots per millimetre (203 dpi): 576 dots across 80 mm paper, 384 across 58 mm. A
font A character is 12 × 24 dots, magnified as the printer magnifies it.
"""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from appliance.core.durable import write_atomic
from appliance.kiosk.ticket import SIZES, Slip, Ticket, TicketLayout

DOTS = {80: 576, 58: 384}
CHAR_W, CHAR_H = 12, 24
MARGIN = 24
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
    height = MARGIN * 2 + sum(CHAR_H * SIZES[layout.paper_mm][line.size] + 4 for line in lines)
    if printed.qr:
        height += 220
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = MARGIN
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
    if printed.qr:
        _draw_qr(image, printed.qr, y + 10)
    return image.convert("RGB")


def _draw_qr(image: Image.Image, payload: str, top: int) -> None:
    import qrcode  # python-escpos's own dependency for printing QR codes

    code = qrcode.make(payload, box_size=6, border=0).get_image().convert("L").resize((200, 200))
    image.paste(code, ((image.width - 200) // 2, top))


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
