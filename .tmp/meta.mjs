import * as esbuild from 'esbuild';
const r = await esbuild.build({ bundle:true, platform:'node', format:'cjs', target:'node20', write:false, metafile:true,
  entryPoints:['extension/src/main.ts'], outfile:'/tmp/x.js', external:['vscode','bufferutil','utf-8-validate'],
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  plugins:[{name:'lazy',setup(b){b.onResolve({filter:/^\.\/(client|teamConnection)$/},a=>a.kind==='dynamic-import'?{path:a.path,external:true}:undefined)}}]});
const ins = r.metafile.inputs;
const prot = Object.keys(ins).filter(k=>k.startsWith('protocol'));
for (const p of prot) console.log(p, ins[p].imports.map(i=>i.path).join(' '));
// who imports protocol runtime
for (const [k,v] of Object.entries(ins)) if (!k.startsWith('protocol') && !k.startsWith('node_modules')) { const ps=v.imports.filter(i=>i.path.startsWith('protocol')).map(i=>i.path); if (ps.length) console.log('  ', k, '->', ps.join(' ')); }
const zodBytes = Object.entries(ins).filter(([k])=>k.includes('node_modules/zod')).reduce((s,[,v])=>s+v.bytes,0);
console.log('zod input bytes', zodBytes, Object.keys(ins).filter(k=>k.includes('node_modules')).map(k=>k.split('/')[1]).filter((x,i,a)=>a.indexOf(x)===i));
