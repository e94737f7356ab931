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

// A marketplace "Install" loads the app's listing into the install dialog: open it once it is there.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (target && target.id === "install-dialog-body") {
    var dialog = target.closest("dialog");
    if (dialog && !dialog.open && dialog.showModal) { dialog.showModal(); }
  }
});

// htmx keeps pages for the back button as HTML, where a field shows its value attribute rather
// than what was picked or typed. Once a request of a form marked data-history-fields is in the
// history, write the form's current values into its attributes, so that coming back to that
// entry shows the filters that produced it.
document.addEventListener("htmx:pushedIntoHistory", function () {
  document.querySelectorAll("form[data-history-fields]").forEach(function (form) {
    form.querySelectorAll("input, select").forEach(function (field) {
      if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (option) {
          option.toggleAttribute("selected", option.selected);
        });
      } else if (field.type === "checkbox" || field.type === "radio") {
        field.toggleAttribute("checked", field.checked);
      } else {
        field.setAttribute("value", field.value);
      }
    });
  });
});

// htmx keeps recent pages in sessionStorage for the back button. They hold workspace data, so they
// go when the person logs out, and whenever the login page shows (e.g. the session expired).
function clearHistoryCache() {
  try { sessionStorage.removeItem("htmx-history-cache"); } catch (error) { /* storage disabled */ }
}
document.addEventListener("submit", function (event) {
  if (event.target.hasAttribute("data-clear-history")) { clearHistoryCache(); }
});
document.addEventListener("DOMContentLoaded", function () {
  if (document.querySelector(".login[data-clear-history]")) { clearHistoryCache(); }
});
