"""Reads back the text of an ESC/POS byte stream, decoding each run of text with the code page that the
stream selected for it (ESC t n), so a test sees what the paper shows, accents included. Like a printer, it goes
back to the default code page (0) at each ESC @."""
from escpos import capabilities

ESC, GS, DLE = 0x1B, 0x1D, 0x10
_THREE = set(b"!EatMd-GJ{ ")           # ESC c n
_GS_THREE = set(b"!BLWfhkwH")           # GS c n


def printed_text(data: bytes, profile: str = "TM-T20II") -> str:
    pages = {int(k): v for k, v in capabilities.get_profile(profile).codePages.items()}
    codec, out, run, i = pages[0], [], bytearray(), 0

    def flush():
        out.append(bytes(run).decode(codec.replace("_", "-"), errors="strict"))
        run.clear()

    while i < len(data):
        byte = data[i]
        if byte == ESC:
            flush()
            command = data[i + 1]
            if command == ord("t"):
                codec = pages[data[i + 2]]
                i += 3
            elif command == ord("@"):
                codec = pages[0]
                i += 2
            elif command in _THREE:
                i += 3
            else:
                raise ValueError(f"unknown ESC {chr(command)!r} at byte {i}")
        elif byte == GS:
            flush()
            command = data[i + 1]
            if command == ord("V"):
                i += 4 if data[i + 2] in (65, 66) else 3
            elif command == ord("(") and data[i + 2] == ord("k"):
                i += 5 + data[i + 3] + 256 * data[i + 4]
            elif command == ord("v") and data[i + 2] == ord("0"):
                width, height = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
                i += 8 + width * height
            elif command in _GS_THREE:
                i += 3
            else:
                raise ValueError(f"unknown GS {chr(command)!r} at byte {i}")
        else:
            run.append(byte)
            i += 1
    flush()
    return "".join(out)
