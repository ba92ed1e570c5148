// Accessibility fixes the page needs once its widgets and theme buttons exist (scripts/build_site.py
// copies this file into the site; tests/test_site.py audits every page with axe-core).
// - An explorer's image gets the alt text of its notebook cell: the build writes it into the cell's
//   widget-view JSON ("alt"), and the widget manager renders the view just before that script.
// - A slider handle (role="slider") is named by its slider's label, which ipywidgets does not link.
// - Theme buttons whose aria-label hides their visible text ("Search Ctrl+K", icon titles) are named
//   by what they show (WCAG 2.5.3, label in name).
(function () {
  "use strict";

  function labelWidgets() {
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').forEach(function (script) {
      var alt;
      try {
        alt = JSON.parse(script.textContent).alt;
      } catch (error) {
        return;
      }
      var view = script.previousElementSibling;
      if (!alt || !view) {
        return;
      }
      view.querySelectorAll("img.widget-image:not([alt])").forEach(function (img) {
        img.alt = alt;
      });
    });
    document.querySelectorAll(".widget-slider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var name = label && label.textContent.trim();
      slider.querySelectorAll('[role="slider"]:not([aria-label])').forEach(function (handle) {
        if (name) {
          handle.setAttribute("aria-label", name);
        }
      });
    });
  }

  function nameThemeButtons() {
    document.querySelectorAll(".search-button-field[aria-label]").forEach(function (button) {
      button.removeAttribute("aria-label");
    });
    document.querySelectorAll(".theme-switch-button i[title]").forEach(function (icon) {
      icon.removeAttribute("title");
      icon.setAttribute("aria-hidden", "true");
    });
  }

  function fix() {
    labelWidgets();
    nameThemeButtons();
  }

  document.addEventListener("DOMContentLoaded", function () {
    fix();
    new MutationObserver(fix).observe(document.body, { childList: true, subtree: true });
  });
})();
