// Small behaviours htmx does not cover; no inline scripts (the CSP forbids them).
document.addEventListener("click", function (event) {
  var opener = event.target.closest("[data-dialog-open]");
  if (opener) {
    var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
    if (dialog && dialog.showModal) { dialog.showModal(); }
  }
  var closer = event.target.closest("[data-dialog-close]");
  if (closer) {
    var open = closer.closest("dialog");
    if (open) { open.close(); }
  }
});
