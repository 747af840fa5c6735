/* The import job page: follows the job, then shows its summary and rejected rows. */
jituFollowJob(document.getElementById("job"), function (r) {
  ["imported", "updated", "unchanged", "rejected"].forEach(function (k) { document.getElementById(k).textContent = r[k]; });
  var list = document.getElementById("rejections");
  (r.rejections || []).forEach(function (x) { var li = document.createElement("li"); li.textContent = list.dataset.rowLabel + " " + x.row + ": " + x.reason; list.appendChild(li); });
  document.getElementById("summary").hidden = false;
});
