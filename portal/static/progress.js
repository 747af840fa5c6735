/* Follows a background job (/api/jobs/{id}) with a progress bar; one place for every long task's page.
   The page has an element with data-job, a .progress bar containing #bar, and a #message paragraph. */
function jituFollowJob(box, onDone) {
  var bar = box.querySelector("#bar"), msg = box.querySelector("#message");
  function poll() {
    fetch("/api/jobs/" + box.dataset.job, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (job) {
      bar.style.width = job.progress + "%";
      bar.parentNode.setAttribute("aria-valuenow", job.progress);
      // the job's own words once it has some; until then the page's (translated) "waiting" text stays,
      // never the raw status code
      if (job.message) { msg.textContent = job.message; }
      if (job.status === "done") {
        onDone(typeof job.result === "string" ? JSON.parse(job.result) : job.result);
      } else if (job.status === "failed") {
        msg.className = "alert";
        if (!job.message) { msg.textContent = box.dataset.failed || "Pekerjaan gagal."; }
      } else {
        setTimeout(poll, 1000);
      }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  poll();
}
