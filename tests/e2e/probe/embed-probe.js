// Test probe for /embed: a frame that is not the WebView asks the container for a location.
// A classic script (not a module), so it also runs in a sandboxed, opaque-origin frame.
window.addEventListener("message", function (event) {
  var item = document.createElement("li");
  item.className = "reply";
  item.textContent = JSON.stringify(event.data);
  document.getElementById("replies").appendChild(item);
});
window.parent.postMessage({ type: "REQUEST_LOCATION" }, "*");
document.body.dataset.posted = "true";
