// Swagger UI for /openapi.json; a file of its own, as the page's
// Content-Security-Policy runs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  // No validator badge: it would ask validator.swagger.io about the document.
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    validatorUrl: null,
  });
});
