"use strict";
// The periodic task form (django-celery-beat): under the crontab field, show the
// chosen schedule in words. Replaces the package's inline script, which the
// content security policy blocks (templates/admin/djcelery/).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("readable-crontabs");
  const row = document.querySelector(".field-crontab");
  if (!data || !row) return;
  const readable = JSON.parse(data.textContent);
  const help = row.querySelector(".help");
  const original = help ? help.textContent : "";
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) translation.style.display = "none";
  row.addEventListener("change", () => {
    const select = document.getElementById("id_crontab");
    if (!help || !select) return;
    help.textContent = original;
    const words = readable[select.value];
    if (words) help.append(document.createElement("br"), words);
  });
});
