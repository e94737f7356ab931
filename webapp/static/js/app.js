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

// Fragments marked data-swap-errors answer bad input with 400 and a message rendered for them
// (e.g. the app log's filters): show that message instead of letting htmx drop the response.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 400 && target && target.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
