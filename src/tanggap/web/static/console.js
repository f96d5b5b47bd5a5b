// Review console: keyboard shortcuts for the common outcomes, explanation templates, geo field.
(function () {
  function setup() {
    const form = document.getElementById("decision-form");
    if (!form) return;
    const templates = JSON.parse(form.dataset.templates || "{}");
    const explanation = document.getElementById("explanation");
    const geo = form.querySelector(".needs-geo");
    let filled = explanation.value;

    function choose(radio) {
      radio.checked = true;
      // Offer the template unless the reviewer wrote something of their own.
      if (!explanation.value || explanation.value === filled) {
        explanation.value = templates[radio.value] || "";
        filled = explanation.value;
      }
      if (geo) geo.hidden = radio.value !== "geo_restrict";
    }
    form.querySelectorAll("input[name=outcome]").forEach(function (radio) {
      radio.addEventListener("change", function () { choose(radio); });
      if (radio.checked && geo) geo.hidden = radio.value !== "geo_restrict";
    });
    if (geo && !form.querySelector("input[name=outcome]:checked")) geo.hidden = true;

    document.addEventListener("keydown", function (event) {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "e") {
        event.preventDefault();
        document.getElementById("escalate-reason").focus();
        return;
      }
      const radio = form.querySelector('input[name=outcome][data-key="' + event.key + '"]');
      if (radio) {
        event.preventDefault();
        choose(radio);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
