//! The inline stylesheet and script of the HTML timeline. Static text: the report's data is only
//! ever in escaped HTML (elements and `data-*` attributes), never inside the script.

/// Stylesheet: a two-column grid (labels, time track) per row; bars are positioned in percent of
/// the operation's duration; `--tick` (set on `#timeline`) spaces the gridlines.
pub const CSS: &str = r#"
:root{--ok:#2e9d57;--fail:#d23c3c;--run:#e0a526;--idle:#9aa3ad;--band:#e8eef7;--line:#e3e6ea;--fg:#1d232a;--muted:#5f6b77}
*{box-sizing:border-box}
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;padding:16px 20px;background:#fff}
h1{font-size:20px;margin:0 0 6px}
h1 .app{font-family:ui-monospace,Menlo,Consolas,monospace}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;vertical-align:middle;background:var(--idle)}
.badge.Succeeded{background:var(--ok)}.badge.Failed,.badge.Error{background:var(--fail)}.badge.TimedOut,.badge.Interrupted,.badge.Running{background:var(--run)}
.opmsg{margin:4px 0 8px;font-size:14px}
dl.summary{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 10px}
dl.summary div{display:flex;gap:4px}dl.summary dt{color:var(--muted)}dl.summary dd{margin:0;font-variant-numeric:tabular-nums}
.failure{border-left:4px solid var(--fail);background:#fdeeee;padding:8px 12px;margin:0 0 12px}
.failure h2{font-size:14px;margin:0 0 4px;color:var(--fail)}
.failure ul{margin:0;padding-left:18px}
.failure .msg{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap}
nav.filters{position:sticky;top:0;z-index:3;background:#fff;padding:6px 0;display:flex;flex-wrap:wrap;gap:12px;align-items:center;border-bottom:1px solid var(--line)}
nav.filters input[type=search]{width:220px}
#f-count{color:var(--muted)}
.timeline{--tick:10%}
.row{display:grid;grid-template-columns:minmax(260px,30%) 1fr;min-height:20px;border-bottom:1px solid #f3f4f6}
.row[hidden],.step[hidden]{display:none}
.label{padding:1px 8px 1px 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;background-image:linear-gradient(to right,var(--line) 1px,transparent 1px);background-size:var(--tick) 100%}
.axis{position:sticky;top:37px;z-index:2;background:#fff;border-bottom:1px solid #c9ced4}
.axis .track{height:20px;background:none}
.tick{position:absolute;top:3px;font-size:11px;color:var(--muted);transform:translateX(-50%);white-space:nowrap}
.tick:first-child{transform:none}
.step-row{background:#f7f9fc;border-top:1px solid #d5dbe3;font-weight:600}
.step-row .label .meta{font-weight:400;color:var(--muted)}
.step-band{position:absolute;top:3px;bottom:3px;border-radius:3px;background:var(--band);border:1px solid #b8c6da;min-width:2px}
.step-band.Succeeded{background:#dff3e6;border-color:#8fcfa6}.step-band.Failed{background:#fbe1e1;border-color:#e69a9a}.step-band.Running{background:#fbf0d5;border-color:#e8c46b}
.gap{position:absolute;top:7px;bottom:7px;background:repeating-linear-gradient(45deg,#c9ced4 0 3px,transparent 3px 6px);min-width:1px}
.waited{position:absolute;top:3px;padding:0 6px;font-weight:400;font-size:12px;color:#3c4650;white-space:nowrap;pointer-events:none}
.res .track .band{position:absolute;top:0;bottom:0;background:rgba(120,150,200,.08)}
.bar{position:absolute;top:4px;bottom:4px;border-radius:2px;background:var(--idle);min-width:3px}
.bar.ok{background:var(--ok)}.bar.fail{background:var(--fail)}.bar.run{background:repeating-linear-gradient(45deg,var(--run) 0 6px,#f3cf76 6px 12px)}
.mark{position:absolute;top:2px;bottom:2px;width:2px;background:#333;opacity:.55}
.kind{color:var(--muted)}.name{font-family:ui-monospace,Menlo,Consolas,monospace}
.tag{display:inline-block;font-size:10px;padding:0 4px;border:1px solid #c9ced4;border-radius:3px;color:var(--muted);margin-left:4px;font-weight:400}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;background:var(--idle)}
.dot.ok{background:var(--ok)}.dot.fail{background:var(--fail)}.dot.run{background:var(--run)}
.res.failed{background:#fdeeee}.res.failed .name{color:var(--fail);font-weight:700}
.res.notstarted .label{color:var(--idle)}
.info{grid-column:1/-1;padding:0 0 3px 13px;color:var(--muted);font-size:12px}
.info .msg{white-space:pre-wrap;word-break:break-word}
details.log summary{cursor:pointer;color:#2d5ea8}
details.log pre{margin:4px 0;max-height:360px;overflow:auto;background:#101418;color:#dfe6ee;padding:8px;font-size:12px;white-space:pre-wrap;word-break:break-all}
details.log pre .trunc{color:#f0b429}
.nodata{color:var(--muted)}
footer{margin-top:14px;color:var(--muted);font-size:12px}
"#;

/// Filtering by kind, name and problems. The state lives in the URL fragment (or query):
/// `#kind=Job`, `#name=flyway`, `#problems=1`, and `#filter=X` (a kind when one is called X,
/// else a name substring), so that a filtered view can be linked. When done it sets
/// `data-ready` and `data-shown` (visible resource rows) on `<body>`.
pub const JS: &str = r#"
(function(){
  var rows=[].slice.call(document.querySelectorAll('.res'));
  var steps=[].slice.call(document.querySelectorAll('section.step'));
  var kind=document.getElementById('f-kind'),name=document.getElementById('f-name'),prob=document.getElementById('f-problems'),count=document.getElementById('f-count');
  var kinds={};[].slice.call(kind.options).forEach(function(o){if(o.value)kinds[o.value.toLowerCase()]=o.value;});
  function params(){
    var raw=location.hash.replace(/^#/,'');if(!raw)raw=location.search.replace(/^\?/,'');
    var p={};raw.split('&').forEach(function(kv){if(!kv)return;var i=kv.indexOf('=');
      var k=decodeURIComponent(i<0?kv:kv.slice(0,i));var v=i<0?'':decodeURIComponent(kv.slice(i+1).replace(/\+/g,' '));p[k]=v;});
    return p;
  }
  function load(){
    var p=params();kind.value='';name.value='';prob.checked=false;
    if(p.filter!==undefined){var k=kinds[p.filter.toLowerCase()];if(k)kind.value=k;else name.value=p.filter;}
    if(p.kind){var k2=kinds[p.kind.toLowerCase()];if(!k2){k2=p.kind;var o=document.createElement('option');o.value=o.textContent=k2;kind.appendChild(o);kinds[k2.toLowerCase()]=k2;}kind.value=k2;}
    if(p.name!==undefined)name.value=p.name;
    if(p.problems)prob.checked=true;
  }
  function apply(){
    var k=kind.value,n=name.value.toLowerCase(),only=prob.checked,shown=0;
    rows.forEach(function(r){
      var ok=(!k||r.getAttribute('data-kind')===k)&&(!n||r.getAttribute('data-name').toLowerCase().indexOf(n)>=0)&&(!only||r.hasAttribute('data-problem'));
      r.hidden=!ok;if(ok)shown++;
    });
    var filtered=!!(k||n||only);
    steps.forEach(function(s){s.hidden=filtered&&!s.querySelector('.res:not([hidden])');});
    count.textContent=(filtered?shown+' of ':'')+rows.length+' resources';
    document.body.setAttribute('data-shown',String(shown));
  }
  function save(){
    var p=[];if(kind.value)p.push('kind='+encodeURIComponent(kind.value));
    if(name.value)p.push('name='+encodeURIComponent(name.value));if(prob.checked)p.push('problems=1');
    history.replaceState(null,'',p.length?'#'+p.join('&'):location.pathname+location.search);
  }
  [kind,name,prob].forEach(function(el){el.addEventListener('input',function(){apply();save();});el.addEventListener('change',function(){apply();save();});});
  window.addEventListener('hashchange',function(){load();apply();});
  load();apply();
  document.body.setAttribute('data-ready','1');
})();
"#;
