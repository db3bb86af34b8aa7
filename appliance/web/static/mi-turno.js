// The page needs no script to be read; this one only makes the phone vibrate once when the turn is called,
// where the phone allows it (many allow it only after the citizen has touched the page).
"use strict";
if (document.body.classList.contains("called") && navigator.vibrate) {
  const key = "llamado:" + location.pathname;
  if (!sessionStorage.getItem(key)) {
    sessionStorage.setItem(key, "1");
    navigator.vibrate([400, 200, 400, 200, 400]);
  }
}
