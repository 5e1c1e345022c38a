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
});
