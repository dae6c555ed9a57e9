(* list_domains: every domain of test:///default with its state (shared example). *)
open Pyvirt

let state_names = [
  domain_nostate, "no state"; domain_running, "running"; domain_blocked, "blocked";
  domain_paused, "paused"; domain_shutdown, "shutting down"; domain_shutoff, "shut off";
  domain_crashed, "crashed"; domain_pmsuspended, "suspended";
]

let () =
  try
    let conn = connect_open ~name:"test:///default" () in
    let line dom =
      let state, _ = Domain.get_state dom in
      let info = Domain.get_info dom in
      Printf.sprintf "%-10s %-10s vcpus=%d memory=%dKiB" (Domain.get_name dom)
        (List.assoc state state_names) info.nrVirtCpu info.maxMem
    in
    let lines = List.sort compare (Array.to_list (Array.map line (Connect.list_all_domains conn))) in
    Printf.printf "%d domain(s)\n" (List.length lines);
    List.iter print_endline lines
  with Error e ->
    Printf.printf "error: %s\n" (error_to_string e);
    exit 1
