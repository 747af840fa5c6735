/* Optional: shrink photos in the phone before a slow upload. The server checks and re-encodes anyway. */
(function () {
  var form = document.getElementById("delivery-form");
  if (!form || !window.DataTransfer || !HTMLCanvasElement.prototype.toBlob) return;
  var input = form.querySelector("input[type=file]"), busy = false;
  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return resolve(file);
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () {
        var scale = Math.min(1, 2048 / Math.max(img.width, img.height));
        if (scale === 1 && file.size < 1500000) { URL.revokeObjectURL(url); return resolve(file); }
        var c = document.createElement("canvas");
        c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) { resolve(b ? new File([b], file.name.replace(/\.\w+$/, "") + ".jpg", {type: "image/jpeg"}) : file); }, "image/jpeg", 0.85);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }
  form.addEventListener("submit", function (ev) {
    if (busy || !input.files.length) return;
    ev.preventDefault(); busy = true;
    document.getElementById("upload-note").textContent = form.dataset.shrinking;
    Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
      var dt = new DataTransfer(); files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files; form.submit();
    }, function () { form.submit(); });
  });
})();
