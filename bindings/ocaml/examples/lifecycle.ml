(* lifecycle: define, start, suspend, resume, stop and undefine a domain (shared example). *)
open Pyvirt

let xml = {|<domain type='test'>
  <name>example</name>
  <memory>524288</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>|}

let state dom = try fst (Domain.get_state dom) with Error _ -> -1

let check what f =
  try f () with Error e ->
    Printf.printf "%s: error: %s\n" what (error_to_string e);
    exit 1

let bool b = if b then "true" else "false"

let () =
  let conn = check "open" (fun () -> connect_open ~name:"test:///default" ()) in
  let dom = check "define" (fun () -> Connect.domain_define_xml conn xml) in
  Printf.printf "defined: state=%d active=%s persistent=%s\n" (state dom)
    (bool (Domain.is_active dom)) (bool (Domain.is_persistent dom));
  check "start" (fun () -> Domain.create dom);
  Printf.printf "started: state=%d\n" (state dom);
  check "suspend" (fun () -> Domain.suspend dom);
  Printf.printf "suspended: state=%d\n" (state dom);
  check "resume" (fun () -> Domain.resume dom);
  Printf.printf "resumed: state=%d\n" (state dom);
  check "stop" (fun () -> Domain.destroy dom);
  Printf.printf "stopped: state=%d\n" (state dom);
  (try Domain.destroy dom with Error e ->
     Printf.printf "stop again: code=%d domain=%d message=%s\n" e.code e.domain e.message);
  check "undefine" (fun () -> Domain.undefine dom);
  Domain.free dom;
  try ignore (Connect.domain_lookup_by_name conn "example") with Error e ->
    Printf.printf "lookup after undefine: code=%d domain=%d message=%s\n" e.code e.domain e.message
