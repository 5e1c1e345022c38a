// Small conveniences; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('.issue-row input[name="id"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  // Fit the tag values frame to its content (without this it keeps a fixed height).
  document.querySelectorAll("iframe.facets-frame").forEach(function (frame) {
    function fit() {
      var body = frame.contentDocument && frame.contentDocument.body;
      if (body && body.scrollHeight > 0) {
        frame.style.height = body.scrollHeight + 8 + "px";
      }
    }
    frame.addEventListener("load", fit);
    fit();
  });
});
