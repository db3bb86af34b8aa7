"""The page's HTML: f-strings with html.escape, in the Spanish coordinators read."""
from __future__ import annotations

from html import escape

from hub.web.queries import MAX_DAYS

ERRORS = {
    400: ("Solicitud no válida", "La solicitud no se pudo interpretar."),
    401: ("Inicie sesión", "Inicie sesión para ver esta página."),
    403: ("Solicitud no permitida", "Esta solicitud no vino de esta página. Vuelva a abrirla e intente de nuevo."),
    404: ("Página no encontrada", "La página que busca no existe."),
    405: ("Método no permitido", "Esta página no acepta esa clase de solicitud."),
    411: ("Falta la longitud", "La solicitud debe indicar su longitud."),
    413: ("Solicitud demasiado grande", "La solicitud es demasiado grande."),
    414: ("Dirección demasiado larga", "La dirección de la página es demasiado larga."),
    429: ("Demasiados intentos", "Hubo demasiados intentos fallidos. Espere unos minutos y vuelva a intentarlo."),
    431: ("Encabezados demasiado grandes", "La solicitud trae encabezados demasiado grandes."),
    500: ("Error interno", "Ocurrió un error interno. Intente de nuevo; si continúa, avise al técnico."),
}
NAV = (("/en-vivo", "En vivo"), ("/informe", "Informe"), ("/exportar", "Exportar CSV"))


def page(site: str, title: str, body: str, *, user: str | None, active: str) -> str:
    script = '<script src="/en-vivo.js" defer></script>' if active == "/en-vivo" else ""
    section = "/" + active.split("/")[1].split(".")[0] if active else ""   # /exportar/turnos.csv -> /exportar
    bar = ""
    if user is not None:
        links = "".join(f'<a href="{href}"{" aria-current=page" if href == section else ""}>{text}</a>'
                        for href, text in NAV)
        bar = (f'<header class="topbar"><div class="inner"><span class="site">{escape(site)}</span>'
               f"<nav>{links}</nav>"
               f'<form method="post" action="/salir"><span>{escape(user)}</span> '
               f'<button type="submit">Cerrar sesión</button></form></div></header>')
    return (f'<!DOCTYPE html>\n<html lang="es">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)} · Turnero</title>\n"
            f'<link rel="stylesheet" href="/estilo.css">\n{script}\n</head>\n<body>\n{bar}\n'
            f'<main class="page">\n{body}\n</main>\n</body>\n</html>\n')


def period_form(action: str, button: str, query: dict, message: str = "", extra: str = "") -> str:
    values = {key: escape((query.get(key) or [""])[0][:20]) for key in ("desde", "hasta")}
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return f"""<section class="panel">{error}<form class="period" method="get" action="{action}">
<div><label for="desde">Desde</label><input id="desde" name="desde" type="date" value="{values['desde']}"></div>
<div><label for="hasta">Hasta</label><input id="hasta" name="hasta" type="date" value="{values['hasta']}"></div>
<button class="button" type="submit">{escape(button)}</button>{extra}
</form><p class="muted">Sin fechas se toma el día de hoy. Máximo {MAX_DAYS} días.</p></section>"""


EXPORT_INTRO = """<h1>Exportar turnos</h1>
<p>Un archivo CSV con una fila por turno: servicio, tipo, horas de llegada, llamado y cierre, módulo, asesor,
espera, duración de la atención, resultado y calificación. Abre directamente en Excel en español (UTF-8,
separado por punto y coma) y sirve para cargar las atenciones como tickets en SAP C4C.</p>
"""
LIVE = """<h1>En vivo</h1>
<p class="notice" id="sin-conexion" hidden>La página perdió la conexión con el broker MQTT: los datos pueden estar
desactualizados.</p>
<p class="notice" id="sin-respuesta" hidden>No se pudo consultar el hub. Se intentará de nuevo en unos segundos.</p>
<noscript><p class="notice">Esta vista necesita JavaScript para actualizarse.</p></noscript>
<div id="alarmas" class="alarms none"><strong>Cargando…</strong></div>
<p class="updated">Actualizado a las <span id="actualizado">—</span>. Se actualiza cada 3 segundos.</p>
<div class="grid">
<section class="panel"><h2>Filas de espera</h2><div class="table-wrap"><table>
<thead><tr><th>Servicio</th><th>Normal</th><th>Preferencial</th><th>Mayor espera</th><th>Ritmo</th></tr></thead>
<tbody id="filas"></tbody></table></div></section>
<section class="panel"><h2>Módulos</h2><div class="table-wrap"><table>
<thead><tr><th>Módulo</th><th>Asesor</th><th>Turno</th><th>Servicio</th><th>Tiempo</th><th>Estado</th></tr>
</thead><tbody id="modulos"></tbody></table></div></section>
<section class="panel"><h2>Equipos</h2><div class="table-wrap"><table>
<thead><tr><th>Equipo</th><th>Tipo</th><th>Estado</th><th>Impresora</th></tr></thead>
<tbody id="equipos"></tbody></table></div></section>
<section class="panel"><h2>Últimos llamados</h2><div class="table-wrap"><table>
<thead><tr><th>Turno</th><th>Módulo</th><th>Servicio</th><th>Hora</th></tr></thead>
<tbody id="llamados"></tbody></table></div></section>
</div>"""
