"""Inline CSS and JavaScript of the report (no network, no CDN: everything is in the page)."""

from __future__ import annotations

from coder.scheme import FAMILIES

#: Colours (background, text) per code family, in the order of :data:`coder.scheme.FAMILIES`
#: (also used by the timeline).
_COLOURS = {
    "helpful": ("#dff3e4", "#14632f"),
    "neutral": ("#ececec", "#444444"),
    "harmful": ("#fde0e3", "#a3001b"),
    "withdrawal": ("#fff0c2", "#7a4e00"),
    "confrontation": ("#f0def8", "#62138f"),
    "talk_type": ("#e3edf7", "#28527a"),
}
FAMILY_COLOURS = {name: _COLOURS[name] for name in FAMILIES}  # a new family without a colour fails here
SCALE_COLOURS = {
    "therapist_contribution": "#1f6fb4",
    "patient_contribution": "#d9730d",
    "interaction": "#2e8b57",
    "total": "#222222",
}
#: Content-Security-Policy of every page: nothing may be fetched from anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;
 background:#fafafa}
header.top{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid #ddd;padding:.5rem 1rem;
 display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:center}
header.top h1{font-size:1.15rem;margin:0 1rem 0 0}
main{max-width:1180px;margin:0 auto;padding:1rem}
a{color:#1f5fa0}
.btn{display:inline-block;padding:.35rem .75rem;border-radius:6px;border:1px solid #bbb;background:#fff;color:#1d1d1f;
 text-decoration:none;cursor:pointer;font-size:.9rem}
.btn.worst{background:#a3001b;border-color:#a3001b;color:#fff;font-weight:600}
.btn.worst:hover{background:#7d0015}
.filters{display:flex;gap:.3rem;align-items:center;font-size:.9rem}
.filters label{border:1px solid #bbb;border-radius:6px;padding:.25rem .6rem;background:#fff;cursor:pointer}
.filters input{margin-right:.3rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:.75rem;margin:.5rem 0 1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.6rem .8rem}
.card .name{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#555}
.card .value{font-size:1.7rem;font-weight:650}
.card .band{font-size:.85rem;color:#555}
.bar{position:relative;height:8px;background:#eee;border-radius:4px;margin-top:.35rem}
.bar .ci{position:absolute;top:0;height:8px;background:#c9d7e6;border-radius:4px}
.bar .pt{position:absolute;top:-3px;width:3px;height:14px;background:#111}
.card .cal{font-size:.85rem;color:#333;margin-top:.2rem}
section{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
section h2{font-size:1.05rem;margin:.1rem 0 .6rem}
table.grid{border-collapse:collapse;width:100%;font-size:.9rem}
table.grid th,table.grid td{border-bottom:1px solid #eee;padding:.3rem .45rem;text-align:left;vertical-align:top}
table.grid th{background:#f5f5f5;cursor:pointer;white-space:nowrap}
table.grid td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.grid td.score{min-width:4.5rem}
main.wide{max-width:1500px}
.legend{display:flex;flex-wrap:wrap;gap:.4rem .9rem;font-size:.82rem;color:#333;margin-top:.4rem}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:.3rem;vertical-align:middle}
svg.timeline{width:100%;height:auto;display:block}
svg.timeline text{font-size:11px;fill:#555}
svg.timeline a:hover rect,svg.timeline a:hover circle,svg.timeline a:hover path{stroke:#000;stroke-width:2}
.muted{color:#666;font-size:.85rem}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:600}
.tag.ok{background:#dff3e4;color:#14632f}.tag.no{background:#fde0e3;color:#a3001b}
#transcript .u{display:grid;grid-template-columns:5.2rem 6.5rem 1fr;gap:.5rem;padding:.3rem .5rem;
 border-left:4px solid transparent;border-bottom:1px solid #f0f0f0;scroll-margin-top:6rem}
#transcript .u.role-client{background:#fcfcff}
#transcript .t{color:#777;font-variant-numeric:tabular-nums;font-size:.85rem}
#transcript .s{font-weight:600;font-size:.88rem;overflow:hidden;text-overflow:ellipsis}
#transcript .role-therapist .s{color:#1f5fa0}#transcript .role-client .s{color:#7a4e00}
#transcript .in-ep{border-left-color:#e0b84a}
#transcript .in-ep.ep-confrontation,#transcript .in-ep.ep-mixed{border-left-color:#a66cc7}
#transcript .worst{background:#fff1f2}
#transcript .u.hl{background:#fff8e1}
#transcript .u:target,#transcript .u.focus{outline:3px solid #f5a700;outline-offset:-3px;background:#ffedb3}
#transcript .badge{display:inline-block;font-size:.75rem;font-weight:700;border-radius:4px;padding:0 .35rem;
 margin-right:.35rem;background:#333;color:#fff}
#transcript .badge.res{background:#14632f}#transcript .badge.unres{background:#a3001b}
#transcript .badge.worst{background:#a3001b}
.code{display:inline-block;font-size:.74rem;border-radius:4px;padding:0 .35rem;margin:.1rem .25rem 0 0;
 font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.code.unreliable{opacity:.45;font-style:italic}
#transcript[data-filter=ruptures] .u:not(.in-ep){display:none}
#transcript[data-filter=harmful] .u:not(.has-harm){display:none}
""" + "".join(
    f".code.f-{name}{{background:{bg};color:{fg}}}\n" for name, (bg, fg) in FAMILY_COLOURS.items()
)

JS = """
(function(){
  var tr=document.getElementById('transcript');
  function clearHl(){document.querySelectorAll('#transcript .hl, #transcript .focus').forEach(function(e){
    e.classList.remove('hl'); e.classList.remove('focus');});}
  function go(id, ep){
    var el=document.getElementById(id); if(!el) return;
    if(tr && el.offsetParent===null){setFilter('all');}
    clearHl();
    if(ep){document.querySelectorAll('#transcript .ep-'+ep).forEach(function(e){e.classList.add('hl');});}
    el.classList.add('focus');
    el.scrollIntoView({block:'center'});
  }
  function setFilter(v){
    if(!tr) return; tr.setAttribute('data-filter',v);
    var r=document.querySelector('input[name=filter][value='+v+']'); if(r) r.checked=true;
  }
  document.querySelectorAll('input[name=filter]').forEach(function(r){
    r.addEventListener('change',function(){setFilter(r.value);});
  });
  document.addEventListener('click',function(ev){
    var a=ev.target.closest ? ev.target.closest('a') : null; if(!a) return;
    var href=a.getAttribute('href')||'';
    if(href.charAt(0)!=='#') return;
    ev.preventDefault();
    history.replaceState(null,'',href);
    go(href.slice(1), a.getAttribute('data-ep'));
  });
  document.addEventListener('keydown',function(ev){
    if(ev.target && /input|textarea|select/i.test(ev.target.tagName)) return;
    if(ev.key==='w'||ev.key==='W'){var w=document.getElementById('worst-link'); if(w) w.click();}
  });
  if(location.hash.length>1){go(location.hash.slice(1));}
  document.querySelectorAll('table.grid').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,i){
      th.addEventListener('click',function(){
        var body=t.tBodies[0], rows=Array.prototype.slice.call(body.rows);
        var dir=th.getAttribute('data-dir')==='asc'?-1:1; th.setAttribute('data-dir',dir===1?'asc':'desc');
        rows.sort(function(a,b){
          var x=a.cells[i].getAttribute('data-v')||a.cells[i].textContent;
          var y=b.cells[i].getAttribute('data-v')||b.cells[i].textContent;
          var nx=parseFloat(x), ny=parseFloat(y);
          if(!isNaN(nx)&&!isNaN(ny)) return dir*(nx-ny);
          return dir*x.localeCompare(y);
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""
