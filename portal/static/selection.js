/* A decision by selection (/alokasi/pekerjaan/{id}): follow the job's progress bar, then show its result
   (the server renders the counts once the job is done). */
(function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  jituFollowJob(box, function () { window.location.reload(); });
}());
