// The live part of a project's page: new events arrive over Server-Sent Events and go on top of
// the list (as text, never as markup); the page reloads now and then for the rest. Without
// scripts the page refreshes itself instead.
(function () {
    "use strict";
    var list = document.getElementById("events");
    if (list && window.EventSource) {
        var source = new EventSource(list.getAttribute("data-src"));
        source.onmessage = function (message) {
            var item = document.createElement("li");
            var code = document.createElement("code");
            code.textContent = message.data;
            item.appendChild(code);
            list.insertBefore(item, list.firstChild);
            while (list.children.length > 50) {
                list.removeChild(list.lastChild);
            }
        };
    }
    setTimeout(function () { window.location.reload(); }, 60000);
}());
