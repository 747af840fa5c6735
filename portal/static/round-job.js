/* The matching round page: follows the round's job, then links to its result. */
jituFollowJob(document.getElementById("job"), function (result) {
  document.getElementById("result-link").href = "/ronde/" + result.round_id;
  document.getElementById("done").hidden = false;
});
