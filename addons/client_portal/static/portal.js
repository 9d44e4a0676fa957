// The portal's own script (no inline script: the CSP forbids it).
// Quick-create modals of the invoice editor: when the server reports the
// record created (HX-Trigger contractorCreated / productCreated), close
// the modal and put the new option into the editor's selects.
(function () {
  'use strict';
  if (window.portalQuickCreate) {
    return;  // included by more than one modal
  }
  window.portalQuickCreate = true;
  var modals = {contractorCreated: 'contractor-quick',
    productCreated: 'product-quick'};
  Object.keys(modals).forEach(function (event) {
    document.body.addEventListener(event, function () {
      var modal = document.getElementById(modals[event]);
      if (modal && window.bootstrap) {
        window.bootstrap.Modal.getOrCreateInstance(modal).hide();
      }
    });
  });

  function option(detail) {
    var element = document.createElement('option');
    element.value = String(detail.id);
    element.textContent = detail.name;
    return element;
  }

  // The editor: the new contractor becomes the buyer
  document.body.addEventListener('contractorCreated', function (event) {
    var select = document.getElementById('contractor');
    if (!select) {
      return;
    }
    select.appendChild(option(event.detail));
    select.value = String(event.detail.id);
    select.dispatchEvent(new Event('change', {bubbles: true}));
  });

  // The editor: every line may use the new product; the first line
  // without one takes it, and htmx fills that line from the product
  document.body.addEventListener('productCreated', function (event) {
    var selects = document.querySelectorAll('select[name$="-product"]');
    var target = null;
    selects.forEach(function (select) {
      select.appendChild(option(event.detail));
      if (!target && !select.value) {
        target = select;
      }
    });
    if (target) {
      target.value = String(event.detail.id);
      target.dispatchEvent(new Event('change', {bubbles: true}));
    }
  });
}());
