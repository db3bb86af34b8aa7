"""Reads back the text of an ESC/POS byte stream, decoding each run of text with the code page that the
stream selected for it (ESC t n), so a test sees what the paper shows, accents included. Like a printer, it goes
back to the default code page (0) at each ESC @. It also follows the character width (GS !, ESC !), so a test can
measure each printed line as the paper does. And it reads back the QR codes the stream prints: those the printer
draws (GS ( k, their payload is in the command) and those sent as raster images (GS v 0), decoded by zxing-cpp
from the picture, as a phone's camera would."""
import zxingcpp
from escpos import capabilities
from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10
_THREE = set(b"EatMd-GJ{ ")            # ESC c n
_GS_THREE = set(b"BLWfhkwH")            # GS c n


def printed_text(data: bytes, profile: str = "TM-T20II") -> str:
    return "".join(text for text, _width, _page in _runs(data, profile))


def printed_lines(data: bytes, profile: str = "TM-T20II") -> list[tuple[str, int]]:
    """Each printed line and the widest magnification of its characters: it takes len × that many columns."""
    lines, text, width = [], "", 1
    for run, magnify, _page in _runs(data, profile):
        for i, part in enumerate(run.split("\n")):
            if i:
                lines.append((text, width))
                text, width = "", 1
            text += part
            width = max(width, magnify) if part else width
    return lines + ([(text, width)] if text else [])


def code_pages_used(data: bytes, profile: str = "TM-T20II") -> set[int]:
    """The code pages (ESC t numbers) the stream's text was printed in."""
    return {page for _text, _width, page in _runs(data, profile)}


def _runs(data: bytes, profile: str):
    """(text, character width, code page) for each run of text between commands."""
    pages = {int(k): v for k, v in capabilities.get_profile(profile).codePages.items()}
    page, width, run, i = 0, 1, bytearray(), 0

    def flush():
        text = bytes(run).decode(pages[page].replace("_", "-"), errors="strict")
        run.clear()
        return [(text, width, page)] if text else []

    while i < len(data):
        byte = data[i]
        if byte == ESC:
            yield from flush()
            command = data[i + 1]
            if command == ord("t"):
                page = data[i + 2]
                i += 3
            elif command == ord("@"):
                page, width = 0, 1
                i += 2
            elif command == ord("!"):                 # print mode: bit 5 is double width
                width = 2 if data[i + 2] & 0x20 else 1
                i += 3
            elif command in _THREE:
                i += 3
            else:
                raise ValueError(f"unknown ESC {chr(command)!r} at byte {i}")
        elif byte == GS:
            yield from flush()
            command = data[i + 1]
            if command == ord("!"):                   # character size: the high nibble is the width - 1
                width = (data[i + 2] >> 4) + 1
                i += 3
            elif command == ord("V"):
                i += 4 if data[i + 2] in (65, 66) else 3
            elif command == ord("(") and data[i + 2] == ord("k"):
                i += 5 + data[i + 3] + 256 * data[i + 4]
            elif command == ord("v") and data[i + 2] == ord("0"):
                columns, height = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
                i += 8 + columns * height
            elif command in _GS_THREE:
                i += 3
            else:
                raise ValueError(f"unknown GS {chr(command)!r} at byte {i}")
        else:
            run.append(byte)
            i += 1
    yield from flush()


def printed_qr_codes(data: bytes) -> list[tuple[str, str]]:
    """("native" | "image", payload) for each QR code in the stream, in order."""
    found, i = [], 0
    while (i := data.find(GS, i)) >= 0:
        if data[i + 1:i + 3] == b"(k" and data[i + 5:i + 8] == b"1P0":      # store the symbol's data
            length = data[i + 3] + 256 * data[i + 4]
            found.append(("native", data[i + 8:i + 5 + length].decode("utf-8")))
            i += 5 + length
        elif data[i + 1:i + 3] == b"v0":
            columns, height = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
            raster = bytes(255 - byte for byte in data[i + 8:i + 8 + columns * height])  # ESC/POS: 1 is black
            picture = Image.frombytes("1", (columns * 8, height), raster).convert("L")
            found += [("image", code.text) for code in zxingcpp.read_barcodes(picture)
                      if code.format == zxingcpp.BarcodeFormat.QRCode]
            i += 8 + columns * height
        else:
            i += 1
    return found
