(* The data shapes of the host and vCPU queries, with test:///default's fixed
   answers (the same on pyvirt and on libvirt's own test driver). *)
open Pyvirt
open Harness

let hex s = String.concat "" (List.map (fun c -> Printf.sprintf "%02x" (Char.code c))
                                (List.of_seq (String.to_seq s)))

let () =
  let conn = connect_open ~name:"test:///default" () in
  test "node_get_cpu_stats" (fun () ->
      let got = Connect.node_get_cpu_stats conn node_cpu_stats_all_cpus in
      check_eq "stats" (fun l -> String.concat "," (List.map (fun (f, v) -> f ^ "=" ^ string_of_int v) l))
        [("user", 9797400000); ("kernel", 34678723400000); ("idle", 87264900000);
         ("iowait", 763600000)]
        (Array.to_list (Array.map (fun (s : node_cpu_stats) -> (s.field, s.value)) got)));
  test "node_get_memory_stats: not supported by the test driver" (fun () ->
      check_eq "code" string_of_int err_no_support
        (error_code (fun () -> Connect.node_get_memory_stats conn node_memory_stats_all_cells)));
  test "node_get_cpu_map" (fun () ->
      let n, map, online = Connect.node_get_cpu_map conn in
      check_eq "map" (fun x -> x) "8 15 3" (Printf.sprintf "%d %s %d" n (hex map) online));
  test "node_get_free_pages" (fun () ->
      (* the result is the driver's own (0 here); every slot is filled *)
      let n, counts = Connect.node_get_free_pages conn [| 4; 2048 |] 0 2 in
      check_eq "counts" (fun x -> x) "0: 19 45 97 201"
        (Printf.sprintf "%d: %s" n (String.concat " " (Array.to_list (Array.map string_of_int counts)))));
  let dom = Connect.domain_lookup_by_name conn "test" in
  test "get_vcpus" (fun () ->
      let info, maps = Domain.get_vcpus dom 2 1 in
      check_eq "info" (fun x -> x) "0/1 1/1"
        (String.concat " " (Array.to_list (Array.map (fun v ->
             Printf.sprintf "%d/%d" v.number v.state) info)));
      check "a vCPU runs on a CPU" (Array.for_all (fun v -> v.cpu >= 0) info);
      check_eq "maps" (fun x -> x) "ffff" (hex maps);
      let _, none = Domain.get_vcpus dom 2 0 in
      check_eq "no maps asked for" (fun x -> x) "" none);
  test "get_vcpu_pin_info" (fun () ->
      let n, maps = Domain.get_vcpu_pin_info dom 2 1 in
      check_eq "pins" (fun x -> x) "2 ffff" (Printf.sprintf "%d %s" n (hex maps)));
  test "get_emulator_pin_info" (fun () ->
      let n, map = Domain.get_emulator_pin_info dom 1 in
      check_eq "pin" (fun x -> x) "1 ff" (Printf.sprintf "%d %s" n (hex map)));
  test "stats records: a domain and typed parameters each" (fun () ->
      let show (recs : domain_stats_record array) =
        String.concat ";" (Array.to_list (Array.map (fun (r : domain_stats_record) ->
            let p f = match List.assoc f r.params with Int i -> string_of_int i | _ -> "?" in
            Printf.sprintf "%s %d %s %s" (Domain.get_name r.dom) (List.length r.params)
              (p "state.state") (p "state.reason")) recs)) in
      check_eq "all" (fun x -> x) "test 2 1 0"
        (show (Connect.get_all_domain_stats conn domain_stats_state));
      check_eq "list" (fun x -> x) "test 2 1 0"
        (show (domain_list_get_stats [| dom |] domain_stats_state)));
  test "interface_addresses: addresses nested in each interface" (fun () ->
      let ifaces = Domain.interface_addresses dom domain_interface_addresses_src_lease in
      check_eq "ifaces" (fun x -> x) "testnet0 aa:bb:cc:dd:ee:ff [0 192.168.122.3/24]"
        (String.concat ";" (Array.to_list (Array.map (fun (i : domain_interface) ->
             Printf.sprintf "%s %s [%s]" i.name i.hwaddr
               (String.concat " " (Array.to_list (Array.map (fun (a : domain_interface_ip_address) ->
                    Printf.sprintf "%d %s/%d" a.type_ a.addr a.prefix) i.addrs)))) ifaces))));
  test "get_cpu_stats: rows of typed parameters" (fun () ->
      let cpu_time (p : typed_params) = match List.assoc_opt "cpu_time" p with
        | Some (Ullong v) -> Int64.to_string v | _ -> "?" in
      let n, rows = Domain.get_cpu_stats dom 0 (-1) 1 in
      check_eq "count" (fun x -> x) "3 0" (Printf.sprintf "%d %d" n (Array.length rows));
      let n, rows = Domain.get_cpu_stats dom 3 (-1) 1 in
      check_eq "total" (fun x -> x) "3 48772617035 3"
        (Printf.sprintf "%d %s %d" n (cpu_time rows.(0)) (List.length rows.(0)));
      let n, rows = Domain.get_cpu_stats dom 2 0 2 in
      check_eq "per CPU" (fun x -> x) "2 24386308517 24386308518"
        (String.concat " " (string_of_int n :: Array.to_list (Array.map cpu_time rows))));
  test "get_cpu_stats on an inactive domain raises" (fun () ->
      Domain.destroy dom;
      let code = error_code (fun () -> Domain.get_cpu_stats dom 3 (-1) 1) in
      Domain.create dom;
      check_eq "code" string_of_int err_operation_invalid code);
  test "get_vcpus on an inactive domain raises" (fun () ->
      Domain.destroy dom;
      let code = error_code (fun () -> Domain.get_vcpus dom 2 1) in
      Domain.create dom;
      check_eq "code" string_of_int err_operation_invalid code);
  (* No driver reachable here stores secrets (and libvirt 9.0 aborts on a NULL
     secret in virSecretGetValue): the sized-bytes result is only type-checked. *)
  let (_ : ?flags:int -> secret -> string) = Secret.get_value in
  finish ()
