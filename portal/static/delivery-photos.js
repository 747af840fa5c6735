/* The delivery form on a phone: photos are shrunk in the browser (long side 1,600 px, JPEG about 0.8) and
   sent in the background with a progress bar per photo; if sending fails (no signal, or the server refuses
   something) the form stays as it is, typed text and chosen photos included, and shows why. Without this
   script (or without the browser features it needs) the form posts as a plain form; the server checks and
   re-encodes every photo either way. */
(function () {
  "use strict";
  var form = document.getElementById("delivery-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.Blob ||
      !HTMLCanvasElement.prototype.toBlob) return;
  var LONG_SIDE = 1600, QUALITIES = [0.8, 0.7, 0.6], BUDGET = 330 * 1024;
  var input = form.querySelector("input[type=file]"), button = form.querySelector("button");
  var list = document.getElementById("photo-progress"), note = document.getElementById("upload-note");
  var errorBox = document.getElementById("upload-error"), busy = false, d = form.dataset;

  function kb(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " KB"; }

  function decode(file) {  // an ImageBitmap (no blob: URL needed) or, on older browsers, an <img>
    if (window.createImageBitmap) return createImageBitmap(file);
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  /* One photo at a time (a cheap phone has little memory for three 12-megapixel bitmaps). A photo that
     cannot be read here is sent as it is: the server says what is wrong with it. */
  function shrink(file) {
    if (!/^image\//.test(file.type)) return Promise.resolve(file);
    return decode(file).then(function (img) {
      var w = img.width, h = img.height, scale = Math.min(1, LONG_SIDE / Math.max(w, h));
      if (scale === 1 && file.type === "image/jpeg" && file.size <= BUDGET) { if (img.close) img.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale)); canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) img.close();
      var i = 0;
      function attempt() {  // a busy picture (leaves, gravel) may need a lower quality to stay small
        return encode(canvas, QUALITIES[i]).then(function (blob) {
          if (!blob) return file;
          if (blob.size > BUDGET && ++i < QUALITIES.length) return attempt();
          canvas.width = canvas.height = 0;
          return new File([blob], (file.name || "foto").replace(/\.\w+$/, "") + ".jpg", {type: "image/jpeg"});
        });
      }
      return attempt();
    }, function () { return file; });
  }

  function row(n, file) {
    var li = document.createElement("li"), label = document.createElement("span"), bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    label.textContent = d.photo.replace("{n}", n) + " (" + kb(file.size) + "): " + d.shrinking;
    li.appendChild(label); li.appendChild(bar); list.appendChild(li);
    return {li: li, label: label, bar: bar, name: d.photo.replace("{n}", n)};
  }

  function showErrors(doc) {  // the server's messages next to the fields they are about, typed text kept
    var old = form.querySelectorAll("[data-error]");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var other = doc && doc.getElementById("delivery-form"), found = other ? other.querySelectorAll("p.alert[data-error]") : [];
    var first = null;
    for (var j = 0; j < found.length; j++) {
      var p = document.createElement("p"), key = found[j].getAttribute("data-error");
      p.className = "alert"; p.setAttribute("data-error", key); p.textContent = found[j].textContent;
      var field = form.querySelector("[name=" + key + "]");
      if (field) field.closest("label").insertAdjacentElement("afterend", p); else errorBox.appendChild(p);
      first = first || field;
    }
    var token = other && other.querySelector("input[name=_csrf_token]"), mine = form.querySelector("input[name=_csrf_token]");
    if (token && mine) mine.value = token.value;
    return {count: found.length, first: first};
  }

  function fail(message, doc) {
    busy = false; button.disabled = false; note.textContent = "";
    var shown = showErrors(doc), p = document.createElement("p");
    p.className = "alert"; p.setAttribute("data-error", "upload"); p.textContent = message;
    errorBox.insertBefore(p, errorBox.firstChild);
    var rows = list.querySelectorAll("li");
    for (var i = 0; i < rows.length; i++) rows[i].className = rows[i].className === "done" ? "done" : "failed";
    (shown.first || errorBox).scrollIntoView({block: "center"});
  }

  function send(files, rows) {
    var data = new FormData(form);
    data.delete("photos");
    files.forEach(function (f) { data.append("photos", f, f.name); });
    var sizes = files.map(function (f) { return f.size; }), photoBytes = sizes.reduce(function (a, b) { return a + b; }, 0);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.timeout = 10 * 60 * 1000;
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      // the photos are the body's last parts, in order: the bytes sent so far tell how far each one is
      var sent = e.loaded - (e.total - photoBytes), start = 0;
      rows.forEach(function (r, i) {
        var part = Math.max(0, Math.min(1, (sent - start) / Math.max(1, sizes[i]))), pct = Math.round(part * 100);
        r.bar.value = pct;
        r.label.textContent = r.name + " (" + kb(sizes[i]) + "): " + (pct >= 100 ? d.sent : d.sending + " " + pct + " %");
        r.li.className = pct >= 100 ? "done" : "";
        start += sizes[i];
      });
      if (e.loaded >= e.total) note.textContent = d.saving;
    };
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300 && /tercatat=1/.test(xhr.responseURL)) {
        window.location.assign(xhr.responseURL);
        return;
      }
      var doc = null;
      if (/html/.test(xhr.getResponseHeader("Content-Type") || "")) {
        doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      }
      fail(d.failed + " (" + xhr.status + ")", doc);
    };
    xhr.onerror = xhr.ontimeout = xhr.onabort = function () { fail(d.offline, null); };
    xhr.send(data);
  }

  form.addEventListener("submit", function (ev) {
    if (busy || !input.files.length) return;  // none chosen: the browser's own "required" check speaks
    ev.preventDefault(); busy = true; button.disabled = true;
    var chosen = Array.prototype.slice.call(input.files), rows = [], out = [];
    list.textContent = ""; note.textContent = "";
    chosen.forEach(function (f, i) { rows.push(row(i + 1, f)); });
    chosen.reduce(function (done, file, i) {
      return done.then(function () {
        return shrink(file).then(function (small) {
          out.push(small);
          rows[i].label.textContent = rows[i].name + " (" + kb(file.size) + " → " + kb(small.size) + "): " + d.ready;
        });
      });
    }, Promise.resolve()).then(function () { send(out, rows); }, function () { fail(d.offline, null); });
  });
})();
